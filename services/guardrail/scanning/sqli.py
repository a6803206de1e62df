"""SQL injection beyond the quote-then-tautology: error-based, boolean-blind, probes, file and OS access.

Each shape is something only an injection writes: `extractvalue(1, concat(0x7e, ...))` forces an
error that carries the data, `AND ASCII(SUBSTRING((SELECT ...),1,1))>64` reads it one bit at a time,
`ORDER BY 10--` counts columns, `COPY ... FROM PROGRAM` and `xp_dirtree '\\\\host'` reach the OS.
Parameterised queries (`WHERE (a = ?)`), reporting queries with `CAST(x AS int)` or `SUBSTRING(name,
1, 3)` on a column, and schema queries a person writes stay out.
"""

from __future__ import annotations

from typing import Final

from services.guardrail.scanning.rules import rule

# What an injection reads: the server's identity, credentials, the catalogue.
_TARGET: Final = (r"(?:version\s*\(\s*\)|@@\w+|current_user|session_user|system_user|user\s*\(\s*\)"
                  r"|database\s*\(\s*\)|schema\s*\(\s*\)|db_name\s*\(|user_name\s*\(|password|passwd"
                  r"|pass_hash|table_name|column_name|schema_name|usename|string_agg|group_concat"
                  r"|listagg|information_schema|mysql\.user|pg_shadow|pg_user|sysobjects|syscolumns"
                  r"|all_tables|user_tables|banner|sqlite_master)")
_CATALOGUE: Final = (r"(?:information_schema\s*\.\s*\w+|mysql\.user|pg_shadow|pg_catalog\s*\.\s*pg_\w+"
                     r"|sysobjects|syscolumns|sys\s*\.\s*(?:tables|objects|columns|sql_logins)|all_tables"
                     r"|user_tables|sqlite_master)")

RULES: Final = (
    rule("error_based", "sql_injection",
         r"\b(?:extractvalue|updatexml)\s*\(\s*(?:\d+|null|rand\s*\(\s*\)|0x[0-9a-f]+|['\"]\w*['\"])\s*,"
         r"\s*\(?\s*(?:concat(?:_ws)?\s*\(|\(?\s*select\b|0x7e|0x3a|char\s*\(|['\"][~:!@#]['\"])"
         rf"|\bconvert\s*\(\s*(?:int|integer|numeric)\s*,\s*(?:\(\s*select\b|{_TARGET}|char\s*\()"
         rf"|\bcast\s*\(\s*\(\s*select\b[^;\n]{{0,160}}?{_TARGET}[^;\n]{{0,120}}?\bas\s+"
         r"(?:int|integer|numeric|signed|unsigned|decimal)\b"
         rf"|\(\s*select\b[^;\n]{{0,160}}?{_TARGET}[^;\n]{{0,120}}?\)\s*::\s*(?:int|integer|numeric)\b"
         r"|\bexp\s*\(\s*~\s*\(\s*select\b|\bfloor\s*\(\s*rand\s*\(\s*0\s*\)\s*\*\s*2\s*\)"
         r"|\b(?:gtid_subset|gtid_subtract|json_keys|geometrycollection|multipoint|polygon|linestring)"
         r"\s*\(\s*\(?\s*(?:concat|select)\b"
         r"|\b(?:utl_inaddr\s*\.\s*get_host_(?:name|address)|ctxsys\s*\.\s*drithsx\s*\.\s*sn"
         r"|dbms_xmlgen\s*\.\s*getxml|utl_http\s*\.\s*request)\s*\(\s*\(?\s*(?:select\b|['\"])",
         ("extractvalue", "updatexml", "convert", "cast", "int", "integer", "numeric", "exp", "floor",
          "gtid_subset", "gtid_subtract", "json_keys", "geometrycollection", "multipoint", "polygon",
          "linestring", "utl_inaddr", "ctxsys", "dbms_xmlgen", "utl_http")),
    rule("boolean_blind", "sql_injection",
         # Reading data a character at a time, or asking the catalogue yes/no questions.
         r"\b(?:and|or|&&|\|\|)\s*\(*\s*(?:ascii|ord|unicode|hex)\s*\(\s*(?:substring|substr|mid)\s*\("
         r"|\b(?:and|or|&&|\|\|)\s*\(*\s*(?:substring|substr|mid|left|right)\s*\(\s*\(\s*select\b"
         r"|\b(?:substring|substr|mid)\s*\(\s*\(\s*select\b[^;\n]{0,200}?\)\s*,\s*\d+\s*,\s*1\s*\)\s*"
         r"(?:=|>|<|like\b|between\b)"
         r"|\b(?:and|or)\s*\(*\s*(?:length|len|char_length)\s*\(\s*(?:database|user|version|current_user"
         r"|schema|db_name)\s*\(\s*\)\s*\)\s*(?:=|>|<)\s*\d"
         r"|\b(?:and|or)\s*\(+\s*select\s+(?:substring|substr|mid|ascii|ord|left|count\s*\(\s*\*\s*\)"
         r"|\d+\b|[\w.]+\s+from\s+(?:\w+\s+)?where)[^;\n]{0,200}?"
         rf"(?:\)\s*(?:=|>|<|like\b)\s*['\"]?\w|\bfrom\s+{_CATALOGUE})"
         rf"|\b(?:and|or)\s+(?:not\s+)?exists\s*\(\s*select\b[^;\n]{{0,160}}?\bfrom\s+{_CATALOGUE}",
         ("and", "or", "||", "substring", "substr", "mid"),
         requires=(("select", "ascii", "ord", "unicode", "hex", "length", "len", "char_length"),)),
    rule("column_count_probe", "sql_injection",
         # `ORDER BY 10--` with nothing after the comment counts the columns of a query.
         r"(?:(?<![\w.])\d+\s*\)*\s*|\b)order\s+by\s+\d{1,3}\s*(?:--[\s\-+]*|#\s*|/\*\s*)(?=$|\n|['\"`])",
         ("order",), requires=(("--", "#", "/*"),)),
    rule("file_or_os_access", "sql_injection",
         r"\bload_file\s*\(\s*(?:0x[0-9a-f]{6,}|char\s*\()"
         r"|\bcopy\s+(?:\(?[^;\n]{0,120}?\)?\s+)?(?:to|from)\s+program\s+['\"]"
         r"|\bxp_(?:dirtree|fileexist|subdirs)\s+['\"]?\\\\"
         r"|\bsp_(?:oacreate|oamethod)\b|\bsp_configure\s+['\"]?(?:xp_cmdshell|ole\s+automation)"
         r"|\bpg_read_(?:binary_)?file\s*\(\s*['\"]/(?:etc|root|home|proc)/"
         r"|\blo_import\s*\(\s*['\"]/etc/"
         r"|\binto\s+(?:out|dump)file\s+(?:0x|char\s*\()",
         ("load_file", "program", "xp_dirtree", "xp_fileexist", "xp_subdirs", "sp_oacreate",
          "sp_oamethod", "sp_configure", "pg_read_file", "pg_read_binary_file", "lo_import",
          "outfile", "dumpfile")),
)
