"""Throwaway TLS material for the tests: a CA, a server certificate for localhost /
127.0.0.1 / ::1 and a client certificate, made with the ``openssl`` CLI at test time (never
checked in, so nothing expires in the repository)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Certs:
    ca_crt: Path
    server_crt: Path
    server_key: Path
    client_crt: Path
    client_key: Path
    other_ca_crt: Path  # a CA nobody's certificate chains to
    other_client_crt: Path  # a client certificate signed by that other CA
    other_client_key: Path
    other_server_crt: Path  # a server certificate for localhost signed by that other CA
    other_server_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=str(cwd), check=True, capture_output=True,
                   timeout=60)


def _ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN=ledis test {name}", cwd=folder)


def _signed(folder: Path, name: str, ca: str, cn: str, ext: str | None = None) -> None:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
             f"{name}.csr", "-subj", f"/CN={cn}", cwd=folder)
    extra = ["-extfile", ext] if ext else []
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *extra, cwd=folder)


def make_certs(folder: Path) -> Certs:
    folder.mkdir(parents=True, exist_ok=True)
    _ca(folder, "ca")
    _ca(folder, "otherca")
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    _signed(folder, "server", "ca", "localhost", "san.ext")
    _signed(folder, "client", "ca", "ledis test client")
    _signed(folder, "otherclient", "otherca", "stranger")
    _signed(folder, "otherserver", "otherca", "localhost", "san.ext")
    return Certs(folder / "ca.crt", folder / "server.crt", folder / "server.key",
                 folder / "client.crt", folder / "client.key", folder / "otherca.crt",
                 folder / "otherclient.crt", folder / "otherclient.key",
                 folder / "otherserver.crt", folder / "otherserver.key")
