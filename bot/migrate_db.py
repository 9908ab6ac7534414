"""``python -m bot migrate-db --to postgresql://…``: move the bot's SQLite data into PostgreSQL.

Run with the bot stopped (the SQLite file's instance lock makes sure of it). The copy itself, its
verification and the refusal of a non-empty target are :func:`storage.copy_sqlite_to_postgres`'s;
this prints one line per table and what to do next. The SQLite file is left as it was: it is the
way back.
"""

from __future__ import annotations

from bot import instance
from bot.catalog import credits_text
from bot.config import Settings
from storage import StorageError, copy_sqlite_to_postgres, redact_database_url

URL_SCHEMES = ("postgresql://", "postgres://")


async def migrate_db(settings: Settings, url: str, *, out: list[str]) -> int:
    """0 when copied and verified; 1 when refused or failed (nothing then changed in the target);
    2 for a wrong ``--to``. Lines to print are appended to ``out``."""
    if not url.startswith(URL_SCHEMES):
        out.append("✗ --to must be a postgresql:// URL (the empty PostgreSQL database to copy into)")
        return 2
    shown = redact_database_url(url)
    source = settings.database_path
    if not source.is_file():
        out.append(f"✗ no SQLite database at {source} (DATABASE_PATH): nothing to copy")
        return 1
    try:
        claimed = instance.claim(source)
    except (instance.AlreadyRunning, OSError) as exc:
        out.append(f"✗ {exc}")
        return 1
    try:
        report = await copy_sqlite_to_postgres(source, url)
    except StorageError as exc:
        out.append(f"✗ {source} → {shown}: {exc}")
        return 1
    finally:
        instance.release(claimed)
    for table, rows in report.rows.items():
        out.append(f"  {table}: {rows} rows")
    out.append(
        f"✓ copied {source} → {shown}: {sum(report.rows.values())} rows, row counts and ledger balances "
        f"verified ({credits_text(report.ledger_tenths)} in the ledger)"
    )
    out.append(
        f"Next: set DATABASE_URL={shown} (with its password) and start the bot; keep {source} as a backup."
    )
    return 0
