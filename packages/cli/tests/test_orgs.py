"""`antifragile orgs`: a key is printed once, listed by id only, and refused once revoked."""

import asyncio
import re

import pytest
from antifragile_api import db
from antifragile_api.keys import Caller, authenticate
from antifragile_cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(["orgs", *args])
    return int(exited.value.code or 0), capsys.readouterr().out


def caller_of(dsn: str, key: str) -> Caller | None:
    async def check() -> Caller | None:
        pool = await db.connect(dsn)
        try:
            return await authenticate(pool, key)
        finally:
            await pool.close()

    return asyncio.run(check())


@pytest.mark.usefixtures("own_logging")
def test_create_list_and_revoke_a_key(
    postgres_dsn: str, org_id: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_dsn)
    code, out = run(capsys, "create-key", org_id, "--role", "admin", "--label", "ops")
    found = re.search(r"key (\w+) \(admin\)", out)
    assert code == 0 and found is not None, out
    key_id, key = found[1], out.strip().splitlines()[-1]
    caller = caller_of(postgres_dsn, key)
    assert caller is not None and (caller.organization_id, caller.role) == (org_id, "admin")

    code, listed = run(capsys, "list-keys", org_id)
    assert code == 0 and key_id in listed and "live" in listed and key not in listed
    assert run(capsys, "revoke-key", org_id, key_id)[0] == 0
    assert caller_of(postgres_dsn, key) is None
    assert run(capsys, "revoke-key", org_id, key_id)[0] == 1
