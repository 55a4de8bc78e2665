"""The audit trail's commands: ``haia verify`` (registry, ledger, signatures, report files),
``haia keys`` and ``haia sign``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haia.cli.common import console, err
from haia.cli.registry import Url, _registry
from haia.errors import HaiaError
from haia.registry.keys import passphrase, sign_report


def register(app: typer.Typer) -> None:
    """Add ``verify``, ``keys`` and ``sign`` to ``app``."""

    @app.command()
    def verify(
        report: Annotated[list[Path] | None, typer.Option(
            help="A signed report file to check as well (repeatable)")] = None,
        trusted_key: Annotated[list[Path] | None, typer.Option(
            help="Only accept signatures by these public keys (repeatable)")] = None,
        bundle: Annotated[Path | None, typer.Option(
            help="A dossier folder from 'haia registry export': checked offline, on its own")
        ] = None,
        registry_check: Annotated[bool | None, typer.Option(
            "--registry/--no-registry", help="Check the registry and its ledger  "
            "[default: yes, unless --bundle]")] = None,
        expect_root: Annotated[str | None, typer.Option(
            help="SIZE:ROOT printed earlier by 'haia registry root': the ledger must extend it")
        ] = None,
        db: Url = None,
    ) -> None:
        """Check the ledger chain, its signatures, every registry row against it, signed reports
        (against the recorded auditor's registered key), or a dossier. Exits 1 naming what was
        changed."""
        check_registry = registry_check if registry_check is not None else bundle is None
        problems: list[str] = []
        notes: list[str] = []
        reg = None
        if expect_root:
            published_size, sep, published_root = expect_root.partition(":")
            if not sep or not published_size.isdigit() or len(published_root) != 64:
                raise HaiaError("--expect-root: expected SIZE:ROOT (64 hex digits)")
        damaged = False
        if check_registry:
            reg = _registry(db)
            try:
                problems += reg.verify()
                found, checkpoint = reg.check_checkpoint()
                problems += found
                if checkpoint:
                    notes.append(checkpoint)
                if expect_root:
                    problems += reg.check_root(int(published_size), published_root)
                size, digest = reg.root()
            except Exception as exc:  # a damaged database file: name the damage
                message = _damage(exc)
                if message is None:
                    raise
                problems.append(message)
                damaged = True
        if report:
            from haia.registry.report_check import check_report_paths

            lookup = reg.audit_by_hash if reg is not None and not damaged else None
            found, seen = check_report_paths(list(report), lookup, trusted_key)
            problems += found
            notes += seen
        if bundle is not None:
            from haia.registry.dossier import verify_bundle

            found, summary = verify_bundle(bundle)
            problems += found
            notes.append(summary)
        for problem in problems:
            err.print(f"[red]TAMPERED[/] {problem}", highlight=False, soft_wrap=True)
        if problems:
            raise typer.Exit(1)
        if check_registry:
            console.print(f"ledger intact: {size} events, root {digest}", soft_wrap=True)
        for note in notes:
            console.print(note, soft_wrap=True, highlight=False)
        for path in report or []:
            console.print(f"{path}: signature valid", soft_wrap=True, highlight=False)

    keys = typer.Typer(no_args_is_help=True, help="Ed25519 signing keys of auditors.")
    app.add_typer(keys, name="keys")

    @keys.command("create")
    def keys_create(name: str,
                    directory: Annotated[Path | None, typer.Option(
                        help="Key folder  [default: $HAIA_HOME/keys]")] = None,
                    passphrase_env: Annotated[str | None, typer.Option(
                        help="Encrypt the private key with the passphrase in this variable")
                    ] = None) -> None:
        """Create a signing key pair NAME.key (private, 0600) and NAME.pub."""
        from haia.registry.signing import default_key_dir, generate_key

        try:
            info = generate_key(name, directory or default_key_dir(),
                                passphrase(passphrase_env))
        except ValueError as exc:
            raise HaiaError(str(exc)) from None
        except OSError as exc:
            from haia.atomic import describe_os_error

            raise HaiaError(f"cannot create key {name!r}: {describe_os_error(exc)}") from None
        console.print(f"key {info.name}: fingerprint {info.fingerprint}\n"
                      f"  private {info.key_path}\n  public  {info.pub_path}")

    @keys.command("list")
    def keys_list(directory: Annotated[Path | None, typer.Option()] = None) -> None:
        """List the keys in the key folder."""
        from haia.registry.signing import default_key_dir, fingerprint, load_public_key

        folder = directory or default_key_dir()
        pubs = sorted(folder.glob("*.pub")) if folder.is_dir() else []
        if not pubs:
            console.print(f"no keys in {folder}")
        for pub in pubs:
            from cryptography.hazmat.primitives import serialization

            try:
                raw = load_public_key(pub).public_bytes(serialization.Encoding.Raw,
                                                        serialization.PublicFormat.Raw)
            except (OSError, ValueError, TypeError) as exc:
                err.print(f"{pub.stem}  unreadable: {exc}", highlight=False, soft_wrap=True)
                continue
            console.print(f"{pub.stem}  {fingerprint(raw)}  {pub}")

    @app.command()
    def sign(file: Path,
             key: Annotated[str, typer.Option(help="Key name (in the key folder) or path")],
             signer: Annotated[str | None, typer.Option(help="Signer's name")] = None,
             passphrase_env: Annotated[str | None, typer.Option()] = None) -> None:
        """Sign a report file with an auditor's key; writes FILE.sig beside it."""
        path = sign_report(file, key, signer, passphrase_env)
        console.print(f"signed: {path}")


def _damage(exc: Exception) -> str | None:
    """What a database error met while verifying says about the damage (None: not damage)."""
    from sqlalchemy.exc import SQLAlchemyError

    first = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
    if isinstance(exc, SQLAlchemyError):
        if "no such table" in first or "does not exist" in first:
            return f"registry damaged: {first} (a table was dropped)"
        return f"registry damaged: {first}"
    if isinstance(exc, ValueError | TypeError | KeyError | AttributeError):
        return f"registry damaged: a stored value cannot be read ({first})"
    return None
