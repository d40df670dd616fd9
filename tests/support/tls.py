"""A test certificate authority and a loopback server certificate it signed, written as PEM files.

Generated per test session with ``cryptography`` (nothing is committed). Clients trust
``ca_cert`` only; the server presents ``server_cert`` (valid for 127.0.0.1, ::1 and localhost).

``legacy_client_context`` offers nothing newer than TLS 1.1; ``legacy_server_handshake`` proves
that such a client really can complete a TLS 1.1 handshake here, so a server refusing it
is the server's doing and not a limit of the local OpenSSL build.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = timedelta(days=2)


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: str, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        _builder("OVA test CA", "OVA test CA", key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _server(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, extra_ips: tuple[str, ...] = ()
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
        *(x509.IPAddress(ipaddress.ip_address(ip)) for ip in extra_ips),
    ]
    ca_key_id = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        _builder("localhost", "OVA test CA", key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, certificate


def write_tls_files(directory: Path, extra_ips: tuple[str, ...] = ()) -> TlsFiles:
    """Generate the CA and the server certificate into ``directory``; ``extra_ips`` (e.g. a
    hub's 127.0.0.N) are added to the certificate's addresses."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca()
    server_key, server_cert = _server(ca_key, ca_cert, extra_ips)
    files = TlsFiles(
        ca_cert=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server-key.pem",
    )
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.server_key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.server_key.chmod(0o600)
    return files


def legacy_client_context(ca_cert: Path) -> ssl.SSLContext:
    """A client that trusts the test CA and speaks TLS 1.0 or 1.1 only, with every cipher allowed."""
    context = ssl.create_default_context(cafile=str(ca_cert))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # naming TLS 1.0/1.1 at all is deprecated
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def legacy_server_handshake(files: TlsFiles, client: ssl.SSLContext) -> str | None:
    """The version ``client`` negotiates with a one-shot loopback server that allows TLS 1.0+."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        server.minimum_version = ssl.TLSVersion.TLSv1
    server.set_ciphers("DEFAULT:@SECLEVEL=0")
    server.load_cert_chain(str(files.server_cert), str(files.server_key))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)

        def serve_one() -> None:
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                with server.wrap_socket(connection, server_side=True):
                    pass

        thread = threading.Thread(target=serve_one, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
            client.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
        ):
            version = tls.version()
        thread.join(timeout=5)
    return version
