"""RSA keys: made once by `fedblog init`, parsed once at start (parsing a PEM costs tens of ms)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def generate_private_key_pem(bits: int = 2048) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """The site's own key (made by `fedblog init`, readable by its owner only): trusted, so OpenSSL's check of its
    primes is skipped, 42 ms of every start; a file that is no RSA key still fails to load."""
    key = serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the site key must be an RSA key")
    return key


def public_key_pem(private_key: rsa.RSAPrivateKey) -> str:
    """SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"), the form every fediverse server reads."""
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
