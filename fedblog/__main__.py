from fedblog.cli import main

raise SystemExit(main())
