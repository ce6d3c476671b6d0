"""fedblog: a self-hosted blog for one author, federated with the fediverse."""

__version__ = "0.1.0"
SOFTWARE_NAME = "fedblog"
