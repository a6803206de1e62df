"""Executable payloads: shell, Python, SQL injection, PowerShell, encoded payloads, prompt injection.

Each rule is a regular expression for a concrete payload shape (a download piped into a shell, a
reverse shell, `os.system(...)`, a SQL tautology after a quote, `iex (iwr ...)`, "ignore all previous
instructions"...), guarded by literal hints so that clean text costs a few substring checks. Benign
look-alikes stay out by construction: `git status` or `pytest` match nothing, `subprocess.run([...])`
needs `shell=True`, parameterised SQL has no quote-then-operator, and human phrases such as "please
disregard my previous message" lack an instruction noun.

Prompt-injection cues are weighed: a strong cue (an override of previous instructions, a role
hijack, a request for the system prompt or for the instructions "you were given", a smuggled tool
call, a persona set up with no rules or asked for secrets, an order addressed to the AI reading
the text or hidden from people by styling, the same overrides and personas in de/fr/es/it/pt/nl)
is enough alone; weak cues count
only when they are of two different kinds: markup (a `<system>` tag, an `Assistant:` turn),
policy talk ("new policy:", "this supersedes all earlier rules") and actions ("do not tell the
user", "send the conversation history"). A memo saying "New policy: ... This supersedes all
previous guidelines." is policy talk twice, not an injection.

SQL rules also run on a view with inline and MySQL versioned comments (`UNION/**/SELECT`,
`/*!50000UNION*/`) turned into spaces. A quote followed by a comment is an injection when the quote
closes a string the text never opened (`admin'--`) or when SQL surrounds it; `retries = "5"  # ...`
closes its own string.

Encoded runs (base64, hex, URL-encoded) are decoded and scanned again; a payload found inside
makes the run an `encoded` finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from services.guardrail.scanning import (
    indirection,
    multilingual,
    postexploit,
    smuggling,
    sqli,
    windows,
)
from services.guardrail.scanning.anchors import AnchorText, anchored_finditer
from services.guardrail.scanning.decoders import find_encoded
from services.guardrail.scanning.normalize import (
    reveal_concat,
    reveal_shell,
    reveal_sql,
    reveal_words,
)
from services.guardrail.scanning.prefilter import KeyedLiterals, ascii_table, ascii_translate
from services.guardrail.scanning.rules import STRONG, WEAK, Rule
from services.guardrail.scanning.rules import rule as _rule
from services.guardrail.scanning.types import Detection

_I: Final = re.IGNORECASE
MAX_DECODE_DEPTH: Final = 2
_STRONG: Final = STRONG
_WEAK: Final = WEAK
# A text's tokens are the runs of `[a-z0-9_$]` in its lower-cased form, cut out in C calls: every
# other character becomes a space, and `split` cuts the runs between spaces (the other ASCII white
# space is mapped to spaces too), much faster than `re.findall(r"[a-z0-9_$]+", ...)`.
_TOKEN_SPACES: Final = ascii_table(str.maketrans(
    {chr(i): " " for i in range(128) if not ("a" <= chr(i) <= "z" or "0" <= chr(i) <= "9"
                                             or chr(i) in "_$")}))


_SH: Final = r"(?:sudo\s+(?:-\S+\s+)*)?(?:/usr)?(?:/bin/)?(?:ba|z|k|da|fi|tc|c)?sh\b(?![.\-])"
# The arguments of a download up to the pipe, with a URL or a host in them ("curl | bash" alone is
# the name of a habit, not a payload).
_URL_ARG: Final = r"[^\n|;]{0,300}?(?:://|\b[\w\-]+\.[a-z]{2,}\b|\d+\.\d+\.\d+\.\d+)[^\n|;]{0,300}?"
_DANGEROUS_TARGET: Final = (
    r"(?:/|/\*|~/?\*?|\*|\.\*|\$HOME/?\*?|\$\{HOME\}/?|"
    r"/(?:bin|boot|dev|etc|home|lib|lib64|opt|root|sbin|srv|sys|usr|var)/?\*?)"
    r"(?=$|[\s`'\";&|)]|[.,](?:\s|$))")


def _rm_flags_recursive_force(match: re.Match[str]) -> bool:
    flags = match.group("flags").lower()
    short = "".join(f[1:] for f in flags.split() if f.startswith("-") and not f.startswith("--"))
    recursive = "r" in short or "--recursive" in flags
    force = "f" in short or "--force" in flags or "--no-preserve-root" in flags
    return recursive and force


_DOWNLOAD: Final = re.compile(r"\b(?:curl|wget|fetch|invoke-webrequest|iwr|scp|tftp)\b", _I)
_DROPPER_PATH: Final = re.compile(
    r"^(?:/tmp/|/var/tmp/|/dev/shm/|/run/user/)|(?:^|/)\.[^/]+$|\.(?:bin|elf|out|so|run)$")


def _dropper_run(match: re.Match[str]) -> bool:
    # `chmod +x gradlew && ./gradlew build` is everyday work; a dropper runs what it just fetched,
    # from a temp dir, hidden, as a raw binary, or in the background.
    path = match.group("path")
    tail = match.group("tail")
    return bool(_DOWNLOAD.search(match.string, 0, match.start()) or _DROPPER_PATH.search(path)
                or re.search(r"&(?!&)|--daemon|\bnohup\b|>\s*/dev/null", tail))


# Programs that hand out a shell or write files when run setuid (GTFOBins), and shells themselves.
_SETUID_ABUSABLE: Final = frozenset((
    "sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish", "ash", "busybox", "find", "vim", "vi",
    "view", "nano", "ed", "python", "python2", "python3", "perl", "ruby", "php", "lua", "node",
    "awk", "gawk", "mawk", "nawk", "less", "more", "man", "env", "cp", "mv", "tee", "dd", "nmap",
    "tar", "zip", "git", "docker", "socat", "nc", "ncat", "xxd", "base64", "sed", "gdb", "strace",
    "expect", "taskset", "time", "timeout", "nice", "ionice", "flock", "rsync", "openssl", "wget",
    "curl", "install", "chmod", "chown", "cat", "head", "tail", "date", "xargs", "make", "script"))


def _setuid_escalation(match: re.Match[str]) -> bool:
    # The setuid bit is a privilege escalation when it lands on a shell or a program that spawns
    # one, on a file in a temp or hidden place, or on a file run right after with `-p`.
    path = match.group("path") or match.group("src")
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if name in _SETUID_ABUSABLE or _DROPPER_PATH.search(path):
        return True
    tail = match.group("tail") or ""
    return re.search(rf"(?:&&|;|\n)\s*{re.escape(path)}\s+-p\b", tail) is not None


SHELL_RULES: Final = (
    _rule("download_pipe_shell", "shell",
          rf"\b(?:curl|wget|fetch)\s{_URL_ARG}\|\s*{_SH}", ("curl", "wget", "fetch")),
    _rule("download_pipe_interpreter", "shell",
          rf"\b(?:curl|wget)\s{_URL_ARG}\|\s*(?:sudo\s+)?(?:python[23]?|perl|ruby|php|node)"
          r"(?:\s+-)?(?=$|[\s`'\");])(?!\s*-[mc]\b)", ("curl", "wget")),
    _rule("download_substitution", "shell",
          r"(?:\b(?:ba|z)?sh\s+(?:-c\s+)?[\"']?\s*(?:<\(|\$\()|\beval\s+[\"']?\$\()\s*(?:curl|wget)\b"
          r"|\$\(\s*(?:curl|wget)\s[^)\n]{0,200}?(?:://|\b[\w\-]+\.[a-z]{2,}\b)",
          ("curl", "wget")),
    _rule("runtime_exec", "shell",
          r"\bRuntime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec\s*\(|\bProcessBuilder\s*\(\s*[\"']"
          r"(?:/bin/)?(?:ba)?sh\b|\bchild_process[\"']?\s*\)?\s*\.\s*(?:exec|execSync|spawn)\s*\("
          r"|\b(?:execSync|spawnSync)\s*\(\s*[\"'`]|\bproc_open\s*\(|\bshell_exec\s*\(|\bpassthru\s*\(",
          ("runtime", "processbuilder", "child_process", "execsync", "spawnsync", "proc_open",
           "shell_exec", "passthru")),
    _rule("dev_tcp", "shell", r"/dev/(?:tcp|udp)/[\w.\-]+/\d+", ("tcp", "udp")),
    _rule("netcat_exec", "shell",
          r"\b(?:nc|ncat|netcat)\b[^\n;|]{0,120}?\s-[a-z]*[ec]\s+\S*(?:sh|cmd(?:\.exe)?|powershell)\b",
          ("nc", "ncat", "netcat")),
    _rule("interactive_shell_redirect", "shell", r"\b(?:ba|z)?sh\s+-i\s*(?:[0-9]?[<>]&?|&>)",
          ("sh", "bash", "zsh")),
    _rule("mkfifo_shell", "shell", r"\bmkfifo\b[^\n]{0,160}\b(?:nc|ncat|netcat|telnet|openssl)\b",
          ("mkfifo",)),
    _rule("socat_exec", "shell", r"\bsocat\b[^\n]{0,200}\bexec:", ("socat",)),
    _rule("script_reverse_shell", "shell",
          r"\b(?:python[23]?\s+-c|perl\s+-e|php\s+-r|ruby\s+-rsocket\s+-e)\s+[\"'][^\n]{0,400}?"
          r"(?:pty\.spawn|socket\.socket|dup2|fsockopen|IO::Socket|TCPSocket|use\s+Socket|PF_INET"
          r"|exec\s*\(\s*[\"']/bin/)",
          ("python", "python2", "python3", "perl", "php", "ruby")),
    _rule("rm_rf_root", "shell",
          rf"\brm\s+(?P<flags>(?:--?[\w\-]+\s+)+){_DANGEROUS_TARGET}", ("rm",),
          check=_rm_flags_recursive_force),
    _rule("no_preserve_root", "shell", r"--no-preserve-root\b", ("preserve",)),
    _rule("fork_bomb", "shell",
          r"(?P<f>[A-Za-z_]\w*|:)\s*\(\s*\)\s*\{\s*(?P=f)\s*\|\s*(?P=f)\s*&\s*\}\s*;?\s*(?P=f)"
          # Both shapes hold a `|`, which prose with braces (JSON, templates) rarely has.
          r"|%0\s*\|\s*%0", ("{", "%0"), requires=(("|",),)),
    _rule("chmod_run", "shell",
          r"\bchmod\s+(?:[ugoa]*\+[rw]*x[rw]*|[0-7]*[1357][0-7]{0,2})\s+(?P<path>[\w./~\-]+)"
          r"[^\n]{0,80}?(?:&&|;|\|\||\n)\s*(?:sudo\s+)?(?:nohup\s+)?(?:\./)?(?P=path)"
          r"(?P<tail>[^\n;|]{0,40})", ("chmod",), check=_dropper_run),
    _rule("chmod_world_root", "shell", r"\bchmod\s+-R\s+0?777\s+/(?=$|\s)", ("chmod",)),
    _rule("chmod_setuid", "shell",
          r"\bchmod\s+(?:-\w+\s+)*(?:(?:[ugoa]*u[ugoa]*[+=]|a?\+|a=)[rwxXt]*s[rwxXt]*"
          r"(?:,[ugoa]*[+=\-][rwxXst]*)*|0?[4-7][0-7]{3})\s+"
          r"(?:[\"']?\$\(\s*(?:which|command\s+-v)\s+)?(?P<path>[\w./~\-]+)"
          r"(?P<tail>[^\n]{0,80})"
          # `install -m 4755 /bin/bash /tmp/b` copies a shell with the setuid bit in one step.
          r"|\binstall\s+(?:-\S+\s+)*-m\s*0?[4-7][0-7]{3}\s+(?:-\S+\s+)*(?P<src>[\w./~\-]+)",
          ("chmod", "install"), check=_setuid_escalation),
    _rule("privileged_shell", "shell",
          # `sh -p` keeps the effective uid of a setuid binary: only used to escalate.
          r"(?<![\w\-/.])(?:/usr)?(?:/bin/)?(?:ba|da|z|k)?sh\s+-p\b", ("sh", "bash", "dash", "zsh",
                                                                      "ksh")),
    _rule("wipe_disk", "shell",
          r"\bdd\s+if=/dev/(?:zero|u?random)\s+of=/dev/(?:sd|hd|nvme|xvd|vd|mmcblk)"
          r"|\bmkfs(?:\.\w+)?\s+(?:-\S+\s+)*/dev/|>\s*/dev/sd[a-z]\b|\bshred\b[^\n]{0,60}/dev/sd"
          r"|\bformat\s+c:(?=$|\s|/)|\brd\s+/s\s+/q\s+c:\\",
          ("dd", "mkfs", "shred", "format", "rd", "/dev/sd")),
    _rule("credential_read", "shell",
          r"\b(?:cat|less|more|head|tail|type|base64|strings|xxd)\s+(?:~|\$HOME|/root|/home/[\w.\-]+)?/?"
          r"(?:\.aws/credentials|\.ssh/id_[a-z0-9]+(?!\.pub)|\.netrc|\.docker/config\.json"
          r"|\.kube/config|\.git-credentials)\b"
          r"|\b(?:cat|less|more|head|tail|strings)\s+/etc/(?:shadow|sudoers|master\.passwd|passwd)\b",
          ("credentials", "ssh", "netrc", "docker", "kube", "shadow", "sudoers", "passwd")),
    _rule("persistence", "shell",
          r">>?\s*(?:~|\$HOME|/root)?/?\.ssh/authorized_keys\b"
          r"|\bcrontab\b[^\n]{0,120}(?:curl|wget|\bnc\b|/dev/tcp)"
          r"|(?:curl|wget)[^\n]{0,200}\|\s*crontab\b", ("authorized_keys", "crontab")),
    _rule("destructive_misc", "shell",
          r"\bmv\s+(?:~|/\*?|/(?:etc|home|usr|var|bin|boot)\S*)\s+/dev/null\b|\bkill\s+-9\s+-1\b"
          r"|\bcrontab\s+-r\b|>\s*/etc/(?:passwd|shadow|sudoers)\b|\bchmod\s+(?:-R\s+)?0?[0-7]?777\s+"
          r"/(?:etc|usr|bin|var)?(?=$|\s)|\b(?:history\s+-c|unset\s+HISTFILE)\b[^\n]{0,80}(?:&&|;)"
          r"|\biptables\s+-F\b[^\n]{0,40}(?:&&|;)\s*iptables\s+-P\s+\w+\s+ACCEPT",
          ("mv", "kill", "crontab", "etc", "chmod", "history", "histfile", "iptables")),
    _rule("windows_download_exec", "shell",
          r"\bcertutil(?:\.exe)?\s+(?:-\w+\s+)*-urlcache\b|\bbitsadmin(?:\.exe)?\s+/transfer\b"
          r"|\bmshta(?:\.exe)?\s+(?:https?:|vbscript:|javascript:)|\bregsvr32\b[^\n]{0,80}/i:https?:"
          r"|\bvssadmin(?:\.exe)?\s+delete\s+shadows\b|\bwbadmin\s+delete\s+catalog\b"
          r"|\bbcdedit\b[^\n]{0,40}recoveryenabled\s+no\b",
          ("certutil", "bitsadmin", "mshta", "regsvr32", "vssadmin", "wbadmin", "bcdedit")),
)

PYTHON_RULES: Final = (
    _rule("os_exec", "python",
          r"(?<![\w.])os\s*\.\s*(?:system|popen[234]?|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?)\s*\(",
          ("os",)),
    _rule("subprocess_shell", "python",
          r"\bsubprocess\s*\.\s*\w+\s*\((?:[^()]|\([^()]*\)){0,400}?\bshell\s*=\s*(?:True|1)\b",
          ("subprocess",)),
    _rule("subprocess_getoutput", "python",
          r"\b(?:subprocess|commands)\s*\.\s*(?:getoutput|getstatusoutput)\s*\(",
          ("getoutput", "getstatusoutput")),
    _rule("eval_exec", "python", r"(?<![\w.$])(?:eval|exec)\s*\(\s*(?!\)|\d+\s*\))",
          ("eval", "exec")),
    _rule("dunder_import", "python",
          r"\b__import__\s*\(|\b__builtins__\s*(?:\.|\[)\s*[\"']?(?:eval|exec|__import__)"
          r"|\bgetattr\s*\(\s*__builtins__", ("__import__", "__builtins__")),
    _rule("unsafe_deserialise", "python",
          r"\b(?:c?pickle|dill|marshal|jsonpickle|cloudpickle)\s*\.\s*(?:loads?|decode|Unpickler)\s*\("
          r"|\byaml\s*\.\s*(?:unsafe_load|load)\s*\([^)]{0,200}?Loader\s*=\s*(?:yaml\.)?"
          r"(?:Unsafe)?Loader\b|\byaml\s*\.\s*unsafe_load\s*\("
          # PyYAML before 6 made yaml.load(data) without a Loader construct arbitrary objects.
          r"|\byaml\s*\.\s*load\s*\((?![^()]*(?:\([^()]*\)[^()]*)*Loader)[^()]*(?:\([^()]*\)[^()]*)*\)",
          ("pickle", "cpickle", "dill", "marshal", "jsonpickle", "cloudpickle", "yaml")),
    _rule("pty_dup2", "python", r"\bpty\s*\.\s*spawn\s*\(|\bos\s*\.\s*dup2\s*\(", ("pty", "dup2")),
    _rule("compile_exec", "python", r"\bcompile\s*\([^\n]{0,200}?,\s*[\"']exec[\"']\s*\)",
          ("compile",)),
    _rule("rmtree_root", "python",
          r"\bshutil\s*\.\s*rmtree\s*\(\s*[\"'](?:/|~|[A-Za-z]:\\\\?)[\"']", ("rmtree",)),
    _rule("sandbox_escape", "python",
          # Walking from a literal to `object` and back down to every loaded class (or to a
          # function's globals) reaches Popen, os and builtins without importing anything.
          r"__class__\s*\.\s*__(?:base|bases|mro)__(?:\s*\[\s*-?\d+\s*\])?\s*\.\s*__subclasses__"
          r"|__subclasses__\s*\(\s*\)\s*\[\s*-?\d+\s*\]|__init__\s*\.\s*__globals__\b"
          r"|__globals__\s*(?:\[\s*[\"'](?:os|sys|subprocess|__builtins__|builtins|popen|system|eval"
          r"|exec|__import__)[\"']|\.\s*(?:os|sys|__builtins__)\b)"
          r"|\b(?:lipsum|cycler|joiner|namespace|url_for|get_flashed_messages)\s*\.\s*__globals__",
          ("__subclasses__", "__globals__")),
    _rule("indirect_exec", "python",
          r"\bimport_module\s*\(\s*[\"'](?:os|subprocess|pty|socket|builtins)[\"']\s*\)"
          r"|\bgetattr\s*\(\s*(?:os|subprocess|builtins|__builtins__)\s*,\s*[\"'](?:system|popen"
          r"|exec\w*|eval|spawn\w*|call|run|Popen|check_output|getoutput)[\"']"
          r"|\bfrom\s+(?:os|subprocess|pty)\s+import\s+(?:system|popen|spawn\w*|exec\w*|getoutput"
          r"|getstatusoutput)\b[^\n]{0,80}?;\s*(?:system|popen|spawn\w*|exec\w*|getoutput)\s*\(",
          ("import_module", "getattr", "import")),
)

_EXEC_ATTR: Final = (r"(?:system|popen[234]?|spawn[lv]p?e?|exec[lv]p?e?|Popen|check_output|check_call"
                     r"|getoutput|getstatusoutput)")
# A module name built at run time: `'o'+'s'`, `chr(111)+...`, `bytes.fromhex(...)`, `'so'[::-1]`.
_COMPUTED_NAME: Final = (r"(?:[\"'][^\"'\n]{0,20}[\"']\s*(?:\+|\[\s*::\s*-1)|chr\s*\(|bytes\s*\.\s*fromhex"
                         r"|base64\s*\.|codecs\s*\.|binascii\s*\.|[\"'][\"']\s*\.\s*join)")
HIDDEN_PYTHON_RULES: Final = (
    _rule("dynamic_module_call", "python",
          # Whatever the module is called, calling a command runner on it runs a command.
          rf"\b(?:import_module|__import__)\s*\((?:[^()\n]|\([^()\n]*\)){{1,160}}\)\s*\.\s*{_EXEC_ATTR}"
          rf"\s*\(|\bsys\s*\.\s*modules\s*\[[^\]\n]{{1,60}}\]\s*\.\s*{_EXEC_ATTR}\s*\("
          rf"|\bimport_module\s*\(\s*{_COMPUTED_NAME}"
          rf"|\bgetattr\s*\(\s*[^,()\n]{{1,80}}(?:\([^()\n]*\))?\s*,\s*[\"'](?:{_EXEC_ATTR}|eval|exec"
          r"|__import__)[\"']"
          rf"|\bgetattr\s*\(\s*(?:os|subprocess|builtins|__builtins__|pty|sys\s*\.\s*modules[^,\n]*"
          rf"|(?:importlib\s*\.\s*)?import_module\s*\([^()\n]*\)|__import__\s*\([^()\n]*\))\s*,\s*"
          rf"{_COMPUTED_NAME}",
          ("import_module", "__import__", "modules", "getattr")),
    _rule("builtins_exec", "python",
          r"\bbuiltins\s*\.\s*(?:exec|eval|__import__)\s*\(|\b__builtins__\s*\.\s*__dict__\s*\["
          r"|\bvars\s*\(\s*__builtins__\s*\)|\bglobals\s*\(\s*\)\s*\[\s*[\"']__builtins__[\"']",
          ("builtins", "__builtins__")),
    _rule("import_alias_exec", "python",
          r"\bfrom\s+(?:os|subprocess|pty|commands)\s+import\s+(?P<fn>system|popen|getoutput"
          r"|getstatusoutput|spawn\w*|exec[lv]\w*)(?:\s+as\s+(?P<alias>\w+))?[\s\S]{0,300}?"
          r"(?<![\w.])(?:(?P=alias)|(?P=fn))\s*\(\s*[^)\s]",
          ("import",), requires=(("os", "subprocess", "pty", "commands"),)),
    _rule("ctypes_shellcode", "python",
          # Executable memory from Python: the first steps of a shellcode loader.
          r"(?:\.|\b)(?:VirtualAlloc(?:Ex)?|VirtualProtect(?:Ex)?|RtlMoveMemory|CreateRemoteThread"
          r"|WriteProcessMemory|CreateThread|QueueUserAPC|NtAllocateVirtualMemory)\s*(?:\(|\.argtypes"
          r"|\.restype)|\bmmap\s*\.\s*PROT_EXEC\b|\bPAGE_EXECUTE_READWRITE\b"
          r"|\bctypes\s*\.\s*CFUNCTYPE\s*\([^()\n]*\)\s*\(\s*(?:ctypes\s*\.\s*)?(?:addressof|cast|c_void_p"
          r"|\w*(?:addr|ptr|buf)\w*)\b",
          ("virtualalloc", "virtualallocex", "virtualprotect", "virtualprotectex", "rtlmovememory",
           "createremotethread", "writeprocessmemory", "createthread", "queueuserapc",
           "ntallocatevirtualmemory", "prot_exec", "page_execute_readwrite", "cfunctype"),
          requires=(("ctypes", "mmap", "windll", "kernel32", "cdll"),)),
    _rule("python_socket_shell", "python",
          # A socket connected out, then a shell (or its descriptors) handed to it.
          r"\.connect\s*\(\s*\(\s*[\"']?[\w.\-]+[\"']?\s*,\s*\d+\s*\)\s*\)[\s\S]{0,400}?"
          r"(?:\.fileno\s*\(\s*\)|[\"'](?:/bin/)?(?:ba|z|da)?sh[\"']|[\"']cmd(?:\.exe)?[\"']"
          r"|\bpty\s*\.\s*spawn|\b(?:check_output|getoutput|popen)\s*\([^)\n]{0,40}\brecv)",
          ("connect",), requires=(("socket",),)),
)

_QUOTE: Final = r"['\"`]"
# SQL around a quote: a query, a clause or a tautology (prose "select" or "where" alone is not).
_SQL_AROUND: Final = re.compile(
    rf"\bselect\b[^\n;]{{0,80}}\bfrom\b|\bunion\s+(?:all\s+)?select\b|\binsert\s+into\b"
    rf"|\bdelete\s+from\b|\bdrop\s+table\b|\bupdate\s+[\w.`\"]+\s+set\b"
    rf"|\bwhere\s+[\w.`\"]+\s*(?:=|<|>|like\b|in\s*\()"
    rf"|\b(?:or|and)\s+{_QUOTE}?(?P<a>\w+){_QUOTE}?\s*=\s*{_QUOTE}?(?P=a)\b", _I)
_QUOTED_VALUE_MAX: Final = 200
_STRING_PREFIX: Final = re.compile(r"(?<![\w])(?:[rbfu]|rb|br|fr|rf)$", _I)
# What an injected comment cuts off is more query (`-- AND pw = ''`) or nothing; a note in
# prose after it (`-- only live rows`) is a comment in a query someone wrote.
_COMMENTED_OUT: Final = re.compile(
    r"[ \t\-+]*(?:$|\n|(?:and|or|union|select|having|order|group|limit|where)\b|['\"`;=)])", _I)


def _opening_quote(text: str, close: int) -> int | None:
    # Where the string closed by the quote at `close` opens, or None when nothing opens it.
    quote = text[close]
    pos = close
    floor = max(0, close - _QUOTED_VALUE_MAX)
    while True:
        pos = text.rfind(quote, floor, pos)
        if pos < 0:
            return None
        inside_word = (0 < pos < len(text) - 1 and text[pos - 1].isalpha()
                       and text[pos + 1].isalpha())
        if quote == "'" and inside_word:
            continue  # an apostrophe (user's, don't) opens nothing
        if pos == 0 or not text[pos - 1].isalnum():
            return pos
        # A Python string prefix (f"...", rb'...') still opens a string.
        return pos if _STRING_PREFIX.search(text, max(0, pos - 3), pos) else None


def _quote_breaks_out(match: re.Match[str]) -> bool:
    # `admin'--` closes a string the text never opened: the quote breaks out of the query's
    # literal. `timeout = "36s"  # carrier SLA` closes its own string, and a comment after it
    # is only an injection with SQL around it that cuts off the rest of the query.
    text = match.string
    close = match.start("q")
    opening = _opening_quote(text, close)
    if opening is None:
        return True
    return (_COMMENTED_OUT.match(text, match.end()) is not None
            and _SQL_AROUND.search(text, max(0, opening - _QUOTED_VALUE_MAX),
                                   match.end() + _QUOTED_VALUE_MAX) is not None)
SQL_RULES: Final = (
    _rule("tautology", "sql_injection",
          # Parentheses balance the query around it: `') OR ('a'='a`, `")) OR ((1=1`.
          rf"{_QUOTE}\s*\)*\s*(?:or|and|\|\||&&)(?:\s+|\s*\()\(*\s*(?:{_QUOTE}?(?P<a>\w+){_QUOTE}?\s*(?:=|like)\s*"
          rf"{_QUOTE}?(?P=a)\b|{_QUOTE}{_QUOTE}\s*=\s*{_QUOTE}|\d+\s*[<>]\s*\d+\b|true\b"
          r"|not\s+false\b)",
          ("like", "true", "false", "=", "<", ">"),
          requires=(("'", '"', "`"),)),
    _rule("numeric_tautology", "sql_injection",
          r"(?:(?<![\w.])\d+\s+|\)\s*)or(?:\s+|\s*\()\(*\s*(?P<n>\d+)\s*=\s*(?P=n)\b",
          ("=",),
          requires=(("or",),)),
    _rule("quote_comment", "sql_injection",
          rf"\w(?P<q>{_QUOTE})\)?\s*(?:--(?=[\s\-+]|$)|\#(?=\s|$)|/\*)", ("--", "#", "/*"),
          requires=(("'", '"', "`"),), check=_quote_breaks_out),
    _rule("true_then_comment", "sql_injection",
          rf"{_QUOTE}\s*\)*\s*(?:or|\|\|)\s+(?:\d+|true)\s*\)*\s*(?:--(?=[\s\-+]|$)|\#|/\*)",
          ("or", "||"), requires=(("'", '"', "`"), ("--", "#", "/*"))),
    _rule("error_or_blind", "sql_injection",
          rf"{_QUOTE}\s*\)?\s*(?:and|or)\s+(?:\d+\s*=\s*)?(?:convert|cast|extractvalue|updatexml"
          r"|ascii|substring|substr)\s*\(",
          ("and", "or"), requires=(("'", '"', "`"),)),
    _rule("clause_probe", "sql_injection",
          rf"{_QUOTE}\s*\)?\s*(?:order|group)\s+by\s+\d+\s*(?:--|#|/\*)"
          rf"|{_QUOTE}\s*\)?\s*having\s+\d+\s*=\s*\d+",
          ("order", "group", "having")),
    _rule("stacked_query", "sql_injection",
          rf"{_QUOTE}\s*\)*\s*;\s*(?:drop|delete|truncate|alter|insert|update|create|exec(?:ute)?"
          r"|shutdown|grant|declare|waitfor|select)\b", (";",),
          requires=(("'", '"', "`"),)),
    _rule("stacked_after_number", "sql_injection",
          r"(?<![\w.])\d+\s*\)*\s*;\s*(?:drop|truncate)\s+(?:table|database|schema)\s+[\w.`\"\[\]]+"
          r"|(?<![\w.])\d+\s*\)*\s*;\s*(?:delete\s+from|shutdown|exec(?:ute)?\s+xp_)\b"
          # A write stacked after a numeric parameter: `1; UPDATE users SET role='admin'`.
          r"|(?<![\w.])\d+\s*\)*\s*;\s*(?:update\s+[\w.`\"\[\]]+\s+set\s+[\w.`\"\[\]]+\s*="
          r"|insert\s+into\s+[\w.`\"\[\]]+\s*(?:\(|values\b|select\b))",
          ("drop", "truncate", "delete", "shutdown", "exec", "execute", "update", "insert"),
          requires=((";",),)),
    _rule("drop_commented", "sql_injection",
          r";\s*(?:drop\s+(?:table|database|schema)|truncate\s+table|delete\s+from)\s+[\w.`\"\[\]]+"
          r"\s*;?\s*(?:--|#|/\*)", ("drop", "truncate", "delete")),
    _rule("union_select", "sql_injection",
          rf"(?:{_QUOTE}|\)|(?<![\w.])-?\d+)\s*union\s+(?:all\s+|distinct\s+)?select\b"
          r"|\bunion\s+(?:all\s+)?select\b[^;\n]{0,200}?(?:--|#|/\*|@@\w+|\bnull\b|information_schema"
          r"|\b(?:user|database|version|current_user|schema_name|load_file)\s*\(\)"
          r"|\bfrom\s+(?:users|mysql\.user|pg_shadow|sysobjects|dual)\b)", ("union",)),
    _rule("blind_or_exfil", "sql_injection",
          # A delay after a quote or a boolean operator, possibly inside nested subqueries:
          # `1 AND (SELECT * FROM (SELECT(SLEEP(7)))x)`, `' || (SELECT pg_sleep(10))--`.
          rf"(?:{_QUOTE}|\)|\b(?:or|and|xor|rlike|regexp)\b|\|\||;\s*(?=select\b))(?:\s+|[(,]|\*|\b(?:select|from|and|or|if)\b|\d+\s*="
          r"|\b\d+\b){0,12}?(?<![\w.])(?:sleep|pg_sleep|benchmark)\s*\(\s*\d"
          r"|\bwaitfor\s+delay\s+['\"]\d|\bxp_cmdshell\b|\bload_file\s*\(\s*['\"]"
          r"|\bdbms_pipe\s*\.\s*receive_message\s*\("
          r"|\binto\s+(?:out|dump)file\s+['\"]|;\s*shutdown\s*(?:--|#|;|$)",
          ("sleep", "pg_sleep", "benchmark", "waitfor", "xp_cmdshell", "load_file", "outfile",
           "dumpfile", "shutdown", "dbms_pipe")),
)

_PS_DOWNLOAD: Final = (r"(?:iwr|irm|invoke-webrequest|invoke-restmethod|wget|curl|"
                       r"new-object\s+(?:system\.)?net\.webclient|downloadstring)")
POWERSHELL_RULES: Final = (
    _rule("iex_download", "powershell",
          rf"\b(?:iex|invoke-expression)\b\s*\(?\s*\(?\s*(?:{_PS_DOWNLOAD}\b|\[(?:system\.)?text\."
          r"encoding\]|\[(?:system\.)?convert\]|\$\w+)", ("iex", "invoke")),
    _rule("download_pipe_iex", "powershell",
          rf"\b{_PS_DOWNLOAD}\b[^\n]{{0,300}}?\|\s*(?:iex|invoke-expression)\b",
          ("iex", "invoke")),
    _rule("webclient_download", "powershell",
          r"\.download(?:string|file|data)(?:async)?\s*\(\s*['\"]?https?://",
          ("downloadstring", "downloadfile", "downloaddata", "downloadstringasync",
           "downloadfileasync", "downloaddataasync")),
    _rule("encoded_command", "powershell",
          r"\b(?:powershell|pwsh)(?:\.exe)?\b[^\n|]{0,200}?\s[\-/](?:e|ec|en|enc|enco|encod|encode"
          r"|encoded|encodedc\w*)\s+[A-Za-z0-9+/=]{12,}", ("powershell", "pwsh")),
    _rule("hidden_window", "powershell",
          r"\b(?:powershell|pwsh)(?:\.exe)?\b[^\n|]{0,120}?\s-(?:w|win|window|windowstyle)\s+hidden\b",
          ("powershell", "pwsh")),
    _rule("defender_tamper", "powershell",
          r"\b(?:set|add)-mppreference\b[^\n]{0,80}-(?:disable\w+|exclusion\w+)",
          ("mppreference",)),
    _rule("offensive_cmdlets", "powershell",
          r"\binvoke-(?:mimikatz|shellcode|reflectivepeinjection|tokenmanipulation|powershelltcp)\b"
          r"|\bnew-object\s+(?:system\.)?net\.sockets\.tcpclient\b",
          ("invoke", "tcpclient")),
    _rule("destructive_powershell", "powershell",
          r"\b(?:remove-item|ri|rm|del|rd|rmdir)\b[^\n|;]{0,60}?-recurse\b[^\n|;]{0,60}?"
          r"(?:[\"']?c:\\(?:windows\\?|users\\?)?[\"']?(?=$|\s|;)|\$env:(?:systemroot|windir|userprofile))"
          r"|\bformat-volume\b|\bclear-disk\b",
          ("recurse", "format", "clear")),
    _rule("reflective_or_script_exec", "powershell",
          r"\[(?:system\.)?reflection\.assembly\]::load\w*\s*\("
          r"|\$executioncontext\.invokecommand\.invokescript\s*\("
          r"|\b(?:iwr|invoke-webrequest|wget|curl|start-bitstransfer)\b[^\n]{0,200}?(?:-outfile|-o|"
          r"-destination)\s+[\"']?(?P<drop>[\w$:\\/.\-]+\.(?:exe|ps1|bat|cmd|dll|scr|hta|vbs))"
          r"[^\n]{0,200}?\b(?:start-process|saps|start|invoke-item|&)\s+[\"']?(?:\.\\)?[^\s\"']*?"
          r"(?P=drop)",
          ("reflection", "executioncontext", "iwr", "invoke", "wget", "curl", "start")),
)

ENCODED_RULES: Final = (
    _rule("base64_pipe_shell", "encoded",
          rf"\bbase64\s+(?:-d|--decode|-D)\b[^\n|]{{0,40}}\|\s*{_SH}", ("base64",)),
    _rule("exec_decoded", "encoded",
          r"\b(?:exec|eval)\s*\(\s*(?:base64\s*\.\s*b(?:64|32|16|85)decode|codecs\s*\.\s*decode"
          r"|bytes\s*\.\s*fromhex|zlib\s*\.\s*decompress|binascii\s*\.\s*unhexlify|atob"
          r"|String\s*\.\s*fromCharCode)\s*\(",
          ("b64decode", "b32decode", "b16decode", "b85decode", "codecs", "fromhex", "zlib",
           "unhexlify", "atob", "fromcharcode")),
    _rule("hex_pipe_shell", "encoded",
          rf"\b(?:printf|echo\s+-e|xxd\s+-r\s+-p)\b[^\n|]{{0,400}}\|\s*{_SH}",
          ("printf", "echo", "xxd")),
)

_W: Final = r"\s+"
_OVERRIDE_VERB: Final = (
    r"(?:ignore|disregard|forget|override|overrule|bypass|discard|abandon|set\s+aside|overlook"
    r"|neglect|never\s*mind|throw\s+(?:away|out)|erase|nullify|drop|scrap|ditch|dismiss|toss"
    r"|(?:put|leave|push|cast)\s+aside|let\s+go\s+of|get\s+rid\s+of|break\s+free\s+(?:of|from)"
    r"|circumvent|sidestep|skip|forgo|overwrite|invalidate|void|unlearn|wipe\s+(?:out|away)"
    r"|pay\s+no\s+attention\s+to|do\s+not\s+(?:follow|obey)|don'?t\s+(?:follow|obey|listen\s+to)"
    r"|no\s+longer\s+(?:follow|obey|adhere\s+to|comply\s+with)"
    r"|stop\s+(?:following|obeying|adhering\s+to|complying\s+with))")
_NEGATION_BEFORE: Final = re.compile(
    r"(?:n't|\bnot|\bnever)\s+$"
    # "...documents that tell you to ignore your rules": a rule about injections, quoting one.
    r"|\b(?:that|which|who)\s+(?:tells?|asks?|wants?|instructs?|urges?)\s+you\s+to\s+$", _I)


def _not_negated(match: re.Match[str]) -> bool:
    # "Don't forget the previous rules" is a reminder. (A check, not a look-behind in the pattern:
    # look-behinds at every position cost more than the rest of the override rules.)
    return _NEGATION_BEFORE.search(match.string, max(0, match.start() - 40), match.start()) is None


_OVERRIDE_HINTS: Final = (
    "ignore", "disregard", "forget", "override", "overrule", "bypass", "discard", "abandon", "aside",
    "overlook", "neglect", "mind", "nevermind", "throw", "erase", "nullify", "attention", "follow",
    "obey", "listen", "following", "obeying", "adhering", "complying", "adhere", "comply", "drop",
    "scrap", "ditch", "dismiss", "toss", "go", "rid", "free", "circumvent", "sidestep", "skip",
    "forgo", "overwrite", "invalidate", "void", "unlearn", "wipe")
_INSTRUCTION_NOUN: Final = (
    r"(?:instructions?|directions|guidance|guidelines?|directives?|rules|prompts?|constraints"
    r"|restrictions|programming|polic(?:y|ies)|safeguards|guardrails|system\s+messages?)\b"
    # "disregard the previous instructions I sent you" is a person correcting themselves, and
    # "... from the client" relays a third party's wishes; neither addresses a model.
    r"(?!\s+(?:i|we)\s+(?:sent|gave|wrote|shared|emailed|posted|mentioned))"
    r"(?!\s+(?:from|by|of)\s+(?:the\s+|our\s+|your\s+)?(?:client|customer|vendor|supplier|landlord"
    r"|bank|manager|team|legal|hr|counsel|court|partner|auditor|tenant|buyer|seller|insurer)s?\b)")
_TEMPORAL: Final = (r"(?:previous|prior|above|earlier|preceding|foregoing|former|original|initial"
                    r"|old|system|developer|operator)")
# Token forms of the words above, so the override rules only run when both kinds are present.
_NOUN_HINTS: Final = ("instruction", "instructions", "directions", "guidance", "guideline", "guidelines",
                      "directive", "directives", "rules", "prompt", "prompts", "constraints",
                      "restrictions", "programming", "policy", "policies", "safeguards",
                      "guardrails", "message", "messages")
_TEMPORAL_HINTS: Final = ("previous", "prior", "above", "earlier", "preceding", "foregoing",
                          "former", "original", "initial", "old", "system", "developer", "operator")


def _near(pattern: str, *, before: int, after: int) -> Callable[[re.Match[str]], bool]:
    """A rule check: `pattern` also occurs from `before` characters before the match to `after`."""
    compiled = re.compile(pattern, _I)

    def check(match: re.Match[str]) -> bool:
        return compiled.search(match.string, max(0, match.start() - before),
                               match.end() + after) is not None

    return check


# A persona the reader is told to take on: "roleplay as", "pretend you are", "you are no longer".
# Every branch starts at a word boundary (one `\b` before the alternation keeps the scan cheap);
# an imperative verb (`act as`) must open a sentence or follow "you will", "please", "now"...
_PERSONA: Final = (
    rf"\b(?:(?P<verb>role-?play|play{_W}(?:the{_W})?(?:role|part){_W}of|act(?:ing)?{_W}as|pretend"
    rf"|imagine{_W}(?:that{_W})?you|behave{_W}(?:as|like)|respond{_W}as|answer{_W}as|become|simulate"
    rf"|impersonate|play{_W}a{_W}game)\b"
    rf"|(?:take{_W}on|adopt|assume|step{_W}into|immerse{_W}yourself{_W}(?:in|into)){_W}the{_W}"
    rf"(?:role|persona|identity|character)\b"
    rf"|in{_W}(?:a|this|our){_W}(?:hypothetical|fictional|imaginary|alternate){_W}(?:world|scenario"
    rf"|universe|story|reality)\b"
    rf"|you(?:'re|{_W}are){_W}(?:now|no{_W}longer|going{_W}to{_W}be|about{_W}to{_W}(?:become|play))\b"
    rf"|you(?:'re|{_W}are){_W}(?:now{_W})?(?:an?{_W})?(?:ai|model|assistant|chatbot|bot|llm|character"
    rf"|persona){_W}(?:called|named|known{_W}as)\b"
    rf"|you(?:'re|{_W}are){_W}(?:now{_W})?(?:called{_W}|named{_W})?[\"'][A-Z][\w\-]*[\"']"
    rf"|you(?:'re|{_W}are){_W}(?:now{_W})?an?{_W}(?:[\w\-]+{_W}){{0,3}}?(?:ai|model|assistant"
    rf"|chatbot|bot|llm|persona|character|entity)\b)")
_PERSONA_LEAD: Final = re.compile(
    rf"(?:^|[.!?:;\n\"'(]|\b(?:you(?:{_W}(?:will|must|shall|should|can|are{_W}going{_W}to)|'ll)"
    rf"|i{_W}(?:want|need){_W}you{_W}to|please|now|from{_W}now{_W}on,?|let'?s|we(?:'ll|{_W}will)))\s*$",
    _I)
_PERSONA_HINTS: Final = (
    "roleplay", "role", "play", "part", "act", "acting", "pretend", "imagine", "behave", "respond",
    "answer", "become", "simulate", "impersonate", "persona", "longer", "now", "named", "called",
    "known", "identity", "character", "hypothetical", "fictional", "imaginary", "alternate", "ai",
    "model", "assistant", "chatbot", "bot", "llm", "entity", "you")
# What makes a persona a jailbreak: it has no rules, never refuses, or hands out secrets.
_UNBOUND: Final = (
    r"\b(?:(?:no|without(?:\s+any)?|free\s+(?:of|from)(?:\s+(?:all|any))?|zero|ignor(?:es|ing)"
    r"(?:\s+(?:all|every|any))?|bypass(?:es|ing)?(?:\s+(?:all|every|any))?|break(?:s|ing)?"
    r"(?:\s+(?:all|every|any))?|not\s+bound\s+by(?:\s+(?:any|all))?|unbound\s+by"
    r"|(?:does|do)(?:n'?t|\s+not)\s+(?:care\s+about|follow|have|obey|(?:have|need)\s+to\s+(?:abide"
    r"\s+by|follow|obey|comply\s+with|respect))(?:\s+(?:any|all))?|(?:freed|broken\s+free|released)"
    r"\s+(?:of|from)(?:\s+(?:all|any))?)\s+"
    r"(?:(?:the|its|his|her|their|your|openai'?s?|ethical|moral|content|safety|usual|normal"
    r"|typical|any|of)\s+){0,3}(?:rules?|restrictions?|limits|limitations?|filters?|guidelines?"
    r"|polic(?:y|ies)|ethics|morals?|morality|censorship|safeguards?|guardrails?|boundaries"
    r"|constraints|principles|programming|confines)\b(?!\s+(?:on|for)\b)"
    r"|no\s+matter\s+how\s+(?:illegal|unethical|harmful|dangerous|immoral|offensive)\b"
    r"|never\s+(?:refuses?|refusing|says?\s+no|declines?|rejects?)\b|will\s+never\s+refuse\b"
    r"|(?:unfiltered|uncensored|unrestricted|jailbroken|amoral|unaligned|unethical|limitless)\b"
    r"|without\s+(?:refusing|refusal|warnings?|disclaimers?)\b|there\s+are\s+no\s+(?:rules"
    r"|laws|restrictions|limits)\b(?!\s+(?:on|for)\b))")
_UNBOUND_HINTS: Final = (
    "rule", "rules", "restriction", "restrictions", "limits", "limitation", "limitations", "filter",
    "filters", "guideline", "guidelines", "policy", "policies", "ethics", "moral", "morals",
    "morality", "censorship", "safeguard", "safeguards", "guardrail", "guardrails", "boundaries",
    "constraints", "principles", "programming", "refuse", "refuses", "refusing", "refusal", "say",
    "says", "decline", "declines", "reject", "rejects", "unfiltered", "uncensored", "unrestricted",
    "jailbroken", "amoral", "unaligned", "unethical", "limitless", "warning", "warnings",
    "disclaimer", "disclaimers", "laws", "confines", "matter")
# Asking for a secret: "read me the production database password", "email the API keys".
_SECRET_ASK: Final = (
    # "Never reveal the admin password" is a rule a system prompt sets, not a request.
    r"\b(?<!never )(?<!not )(?<!n't )(?:(?:read|tell|give|send|e-?mail|mail|share|reveal|list|print"
    r"|recite|show|dump|leak|post"
    r"|paste|provide|disclose|output|say|whisper|sing|recite)(?:s|es|ing)?|told|gave|sent|shared"
    r"|showed|sang|sung"
    r"|recited|revealed|whispered|leaked|spell\s+out|type\s+out|reply\s+(?:only\s+)?with"
    r"|respond\s+(?:only\s+)?with)\s+(?:(?:me|us|out|back|to\s+me|the|all|every|any|your|our|its"
    r"|of|those|these|full|complete|current|real|actual)\s+){0,4}(?:[\w\-]+\s+){0,3}?"
    r"(?:passwords?|passphrases?|api[\s_\-]?keys?|secret[\s_\-]keys?|access[\s_\-](?:keys?|tokens?)"
    r"|private[\s_\-]keys?|credentials|auth(?:entication)?\s+tokens?|license\s+keys?"
    r"|product\s+keys?|ssh\s+keys?|(?:activation|serial|registration|windows|office)\s+(?:\w+\s+){0,2}keys?"
    r"|system\s+prompt|secrets)\b"
    # "send the password reset link" asks for a link, not for the password.
    r"(?![\s\-]*(?:reset|change|policy|policies|manager|requirements?|rules?|field|hint|expir\w*"
    r"|rotation|strength|link|form|page|protected))")
_ASK_HINTS: Final = (
    "read", "reads", "reading", "tell", "tells", "telling", "told", "give", "gives", "giving", "gave",
    "send", "sends", "sending", "sent", "email", "emails", "e", "mail", "mails", "share", "shares",
    "sharing", "shared", "reveal", "reveals", "revealing", "revealed", "list", "lists", "listing",
    "print", "prints", "printing", "recite", "recites", "reciting", "recited", "show", "shows",
    "showing", "showed", "dump", "dumps", "dumping", "leak", "leaks", "leaking", "leaked", "post",
    "posts", "posting", "paste", "pastes", "pasting", "provide", "provides", "providing",
    "disclose", "discloses", "disclosing", "output", "outputs", "outputting", "say", "says",
    "saying", "whisper", "whispers", "whispering", "whispered", "spell", "type", "reply", "respond",
    "sing", "sings", "singing", "sang", "sung")
_SECRET_HINTS: Final = (
    "password", "passwords", "passphrase", "passphrases", "key", "keys", "api_key", "api_keys",
    "apikey", "apikeys", "credentials", "token", "tokens", "prompt", "secrets")
_UNBOUND_OR_SECRET_NEAR: Final = _near(f"{_UNBOUND}|{_SECRET_ASK}", before=200, after=400)


def _persona_unbound(match: re.Match[str]) -> bool:
    # An imperative persona verb must be addressed to the reader ("The proxy will act as a cache
    # with no limits" is not); then the persona must have no rules or be asked for a secret.
    if match.group("verb") is not None and _PERSONA_LEAD.search(
            match.string, max(0, match.start() - 40), match.start()) is None:
        return False
    return _UNBOUND_OR_SECRET_NEAR(match)


# Text addressed to a model rather than to its human reader.
_AI_READER: Final = (
    r"(?:(?:ai|llm|gpt|chatgpt|automated)(?:\s+(?:assistant|agent|model|system|screener|reviewer"
    r"|recruiter|tool|bot|reader|crawler|scraper|summari[sz]er|parser|grader|evaluator|writer"
    r"|copilot|helper))?|chatbot|language\s+model)s?")
_READING_THIS: Final = (
    r"(?:\s+(?:that|who)\s+(?:is|are))?\s+(?:reading|processing|parsing|summari[sz]ing|screening"
    r"|reviewing|analy[sz]ing|evaluating|scanning|crawling|indexing|viewing|ingesting|grading"
    r"|ranking)\s+(?:this|these|the\s+following|my|our)\b(?:\s+(?:page|document|text|e-?mail|message"
    r"|file|site|website|resume|cv|application|review|post|article|content|thread|ticket|section"
    r"|pdf|note|comment|repository|repo|code|data|input|output|listing|profile|submission|paper"
    r"|report|letter|form|table|product|description)s?\b)?")
_ADDRESSEE: Final = (
    rf"\b(?:(?:note|message|instructions?|notice|reminder|memo|directive|request|attention)\s+"
    rf"(?:for|to)\s+(?:the\s+|any\s+|all\s+|every\s+)?{_AI_READER}\b(?!\s+(?:team|group"
    rf"|committee|lab|department|vendor|policy|project|budget|roadmap|strategy|working))"
    rf"(?:{_READING_THIS})?"
    rf"|{_AI_READER}{_READING_THIS}"
    rf"|(?:attention|attn)\s*,?\s+{_AI_READER}\b"
    rf"|(?P<greeting>(?:hey|hi|hello|dear)\s*,?\s+{_AI_READER}\b)"
    rf"|if\s+you\s+are\s+an?\s+(?:{_AI_READER}|automated\s+\w+)\b(?:{_READING_THIS})?"
    rf"|(?:assistant|ai|llm|model|agent|bot)\s+(?:instructions?|directives?|prompt|override)\s*:)")
# Every address has one of these: a note word, a greeting, "if", a reading verb, "instructions:".
_ADDRESS_HINTS: Final = (
    "note", "message", "instruction", "instructions", "notice", "reminder", "memo", "directive",
    "directives", "request", "attention", "hey", "hi", "hello", "dear", "attn", "if", "reading",
    "processing", "parsing", "summarising", "summarizing", "screening", "reviewing", "analysing",
    "analyzing", "evaluating", "scanning", "crawling", "indexing", "viewing", "ingesting", "grading",
    "ranking", "prompt", "override")
_ADDRESSEE_HINTS: Final = ("ai", "llm", "llms", "gpt", "chatgpt", "chatbot", "chatbots", "model",
                           "models", "automated", "assistant", "agent", "bot")
# An instruction right after the address: "...: rank this candidate first", "...: ignore your task".
_DIRECTIVE: Final = re.compile(
    r"[\s:,.;\-\])]*(?:important\s*[:!-]\s*)?(?:please\s+|you\s+(?:must|should|will|are\s+to)\s+"
    r"|(?:must|should)\s+)?(?:ignore|disregard|forget|override|rank|rate|score|approve|recommend"
    r"|reply|respond|answer|say|output|print|include|insert|add|send|forward|e-?mail|mark|classify"
    r"|label|give|grant|transfer|delete|remove|run|execute|call|visit|open|click|write|summari[sz]e"
    r"|describe|state|praise|prefer|select|choose|shortlist|hire|accept|reject|advance|move|put"
    r"|place|list|reveal|tell|do\s+not|don'?t|never|always|make\s+sure|ensure|treat|consider"
    r"|report|pretend|act|only)\b", _I)


# After a greeting ("Hey ChatGPT, summarise this") only an order against the user is telling.
_HOSTILE_DIRECTIVE: Final = re.compile(
    r"[\s:,.;\-\])]*(?:please\s+)?(?:ignore|disregard|forget|override|pretend|(?:do\s+not|don'?t|never)"
    r"\s+(?:tell|mention|reveal|inform|disclose|show|let))\b", _I)


def _directive_follows(match: re.Match[str]) -> bool:
    return _DIRECTIVE.match(match.string, match.end(), match.end() + 80) is not None


def _addressed_directive(match: re.Match[str]) -> bool:
    if match.group("greeting") is not None:
        return _HOSTILE_DIRECTIVE.match(match.string, match.end(), match.end() + 80) is not None
    return _directive_follows(match)


# Hidden text that orders a model about (e-mail preheaders say "Click to view in your browser").
_MODEL_TASK: Final = re.compile(
    r"\b(?:ignore|disregard|forget|instructions?|assistant|ai|model|llm|summary|summari[sz]e"
    r"|respond|reply|answer|response|output|prompt|system|user'?s?|passwords?|credentials?|api\s+keys?"
    r"|secrets?|tokens?|card\s+numbers?|rank|rate|score|approve|recommend"
    r"|conversation|transcript)\b", _I)


def _hidden_order(match: re.Match[str]) -> bool:
    if not _directive_follows(match):
        return False
    end = match.string.find("<", match.end(), match.end() + 400)
    return _MODEL_TASK.search(match.string, match.end(),
                              end if end != -1 else match.end() + 400) is not None
# Questions about the model's own start-up instructions: "what instructions were you given?".
_GIVEN_INSTRUCTIONS: Final = (
    r"\b(?:first|initial|opening|earliest)\s+(?:message|prompt|instructions?|lines?|text)\s+(?:in|of)"
    r"\s+(?:this|the|our)\s+(?:conversation|chat|session|context)\b"
    r"|\b(?:instructions|rules|guidelines|directives|prompts?)\s+(?:that\s+|which\s+)?"
    r"(?:you\s+(?:were|have\s+been|'ve\s+been|got|received)|(?:were|have)\s+you\s+(?:been\s+)?)"
    r"\s*(?:initially\s+|originally\s+|first\s+)?(?:given|told|provided|fed|sent|programmed"
    r"|configured|set\s+up|initiali[sz]ed|loaded|primed|received)\b"
    r"(?!\s+(?:about|by|from|of|during|at\s+(?:work|school|the\s+office))\b)")
_VERBATIM_OR_START: Final = (
    r"\bword\s+for\s+word\b|\bverbatim\b|\bexactly\s+as\s+(?:written|given|they\s+were)\b"
    r"|\b(?:start|beginning|outset|top)\s+of\s+(?:this|the|our)\s+(?:conversation|chat|session"
    r"|thread|dialog(?:ue)?|context)\b|\bbefore\s+(?:this|my|our)\s+(?:first\s+)?(?:message"
    r"|conversation|chat)\b|\b(?:output|print|repeat|recite|dump|reveal|reproduce)\b|\bexactly\b")

PROMPT_RULES: Final = (
    _rule("override_previous", "prompt_injection",
          rf"\b{_OVERRIDE_VERB}{_W}(?:(?:all|any|every|each|the|of|these|those|your|its){_W}){{0,3}}"
          rf"{_TEMPORAL}{_W}(?:(?:and|or|&|/){_W}\w+{_W})?(?:{_TEMPORAL}{_W})?"
          rf"(?:(?:ai|system|safety|model){_W})?{_INSTRUCTION_NOUN}",
          _OVERRIDE_HINTS,
          requires=(_NOUN_HINTS, _TEMPORAL_HINTS), check=_not_negated),
    _rule("override_yours", "prompt_injection",
          rf"\b{_OVERRIDE_VERB}{_W}(?:(?:all|any)(?:{_W}of)?{_W})?(?:your|all|any|every){_W}"
          rf"(?:\w+{_W})?{_INSTRUCTION_NOUN}",
          _OVERRIDE_HINTS,
          requires=(_NOUN_HINTS, ("your", "all", "any", "every")), check=_not_negated),
    _rule("override_trailing_qualifier", "prompt_injection",
          rf"\b{_OVERRIDE_VERB}{_W}(?:(?:all|any|every|the|of|these|those|your){_W}){{1,3}}"
          rf"(?:\w+{_W})?{_INSTRUCTION_NOUN}{_W}(?:above|before|so{_W}far|given{_W}(?:above|before"
          rf"|earlier|to{_W}you)|you{_W}(?:were|have{_W}been){_W}(?:given|told)|(?:from|by){_W}"
          rf"(?:the{_W})?(?:system|developer|operator|admin))\b",
          _OVERRIDE_HINTS,
          requires=(_NOUN_HINTS, ("above", "before", "far", "given", "told", "system", "developer",
                                  "operator", "admin")), check=_not_negated),
    _rule("ask_for_instructions", "prompt_injection",
          rf"\b(?:what|which)(?:{_W}exactly)?{_W}(?:were|are|was|is){_W}your{_W}(?:initial|original"
          rf"|system|hidden|secret|first|exact){_W}(?:instructions|prompt|rules|directives)\b"
          rf"|\brepeat{_W}(?:the{_W})?(?:words|text|sentences|lines|everything){_W}above,?{_W}"
          rf"(?:(?:starting|beginning){_W}with|verbatim|word{_W}for{_W}word|in{_W}full)\b"
          rf"|\bbegin{_W}(?:new{_W})?(?:system|admin|developer|root){_W}(?:instructions|prompt"
          rf"|override)\b"
          rf"|\b(?:print|output|show|dump|display){_W}(?:the{_W})?(?:contents?{_W}of{_W})?"
          rf"(?:your|the){_W}context{_W}window\b",
          ("what", "which", "repeat", "print", "output", "show", "dump", "display", "begin"),
          requires=(("instructions", "prompt", "rules", "directives", "above", "window"),)),
    _rule("context_dump", "prompt_injection",
          # "Repeat everything above this line", "print the text before 'You are'": the model's
          # own context, when the request also names its instructions or asks for it verbatim.
          rf"\b(?:repeat|print|output|recite|reproduce|dump|echo|write{_W}out)(?:{_W}back)?"
          rf"(?:{_W}all(?:{_W}of)?)?(?:{_W}the)?{_W}(?:everything|all|text|words|content|lines"
          rf"|messages?|instructions|prompt)(?:{_W}that{_W}(?:appears?|comes?|came|is|was))?{_W}"
          rf"(?:above|before|preceding|prior{_W}to)(?:{_W}(?:this|my|the{_W}(?:first|user'?s?))"
          rf"{_W}(?:line|message|point|sentence|question|prompt)\b|\s*[\"'])",
          ("repeat", "print", "output", "recite", "reproduce", "dump", "echo", "write"),
          requires=(("above", "before", "preceding", "prior"),),
          check=_near(r"\byour\s+(?:instructions|prompt|rules|guidelines|context|system)\b|\bverbatim\b"
                      r"|\bword\s+for\s+word\b|\bexactly\b|\bin\s+full\b", before=0, after=120)),
    _rule("ignore_the_user", "prompt_injection",
          rf"\b{_OVERRIDE_VERB}{_W}(?:the|this|that){_W}user(?:'s|s')?{_W}(?:request|question|query"
          rf"|input|instructions?|message|prompt)s?\b",
          _OVERRIDE_HINTS,
          requires=(("user", "users"), ("the", "this", "that")), check=_not_negated),
    _rule("released_from_rules", "prompt_injection",
          rf"\byou{_W}(?:are{_W}no{_W}longer|aren't|are{_W}not){_W}(?:bound|restricted|limited"
          rf"|constrained){_W}by\b|\byou{_W}(?:don'?t|do{_W}not|no{_W}longer){_W}(?:have|need)"
          rf"{_W}to{_W}(?:follow|obey|comply{_W}with){_W}(?:your|any|the){_W}(?:rules|guidelines"
          rf"|instructions|polic(?:y|ies)|restrictions)\b",
          ("bound", "restricted", "limited", "constrained", "follow", "obey", "comply"),
          requires=(("you",), ("longer", "not", "aren", "don", "do"))),
    _rule("hijack_goal", "prompt_injection",
          r"\b(?:say|respond|reply|answer|print|output|write)\s+(?:only\s+)?(?:with\s+)?[\"'`]?"
          r"i\s+have\s+been\s+(?:pwned|compromised|hacked|jailbroken)",
          ("pwned", "compromised", "hacked", "jailbroken")),
    # The same override in the languages our agents most often relay (de, fr, es, it, pt, nl).
    _rule("override_previous_i18n", "prompt_injection",
          r"\bignorier(?:e|en)?\s+(?:alle\s+|die\s+)?(?:vorherigen|bisherigen|obigen|vorangegangenen)"
          r"\s+(?:anweisungen|instruktionen|regeln)|\bignore[zr]?\s+(?:toutes\s+)?(?:les\s+)?"
          r"(?:instructions|consignes|r[eè]gles)\s+(?:pr[eé]c[eé]dentes|ant[eé]rieures)"
          r"|\bignor(?:a|e|ar)\s+(?:todas\s+|todos\s+)?(?:las\s+|os\s+|as\s+|le\s+)?"
          r"(?:instrucciones|instru[cç][oõ]es|istruzioni|regras|reglas)\s+(?:anteriores|precedenti"
          r"|previas)|\bnegeer\s+(?:alle\s+)?(?:vorige|eerdere)\s+(?:instructies|regels)",
          ("ignoriere", "ignorieren", "ignorier", "ignore", "ignorez", "ignorer", "ignora",
           "ignorar", "negeer")),
    _rule("forget_everything", "prompt_injection",
          rf"\bforget{_W}(?:everything|all|anything){_W}(?:(?:that{_W})?you{_W}(?:were|have{_W}been"
          rf"|'ve{_W}been|got|was){_W}(?:told|taught|instructed|given|asked)|(?:above|before"
          rf"|previously|so{_W}far|until{_W}now)\b)"
          rf"|\b{_OVERRIDE_VERB}{_W}(?:everything|all|anything){_W}(?:that{_W})?you(?:{_W}(?:were|have"
          rf"{_W}been)|'ve{_W}been){_W}(?:told|taught|instructed|given|programmed)\b",
          # Both branches have the quantifier between spaces: a token, far rarer than the verbs.
          _OVERRIDE_HINTS, requires=(("everything", "all", "anything"),), check=_not_negated),
    _rule("role_hijack", "prompt_injection",
          rf"\b(?:you{_W}are{_W}(?:now{_W})?|act(?:ing)?{_W}as{_W}|pretend{_W}(?:to{_W}be|you"
          rf"{_W}are){_W}|role-?play{_W}as{_W}|you{_W}will{_W}be{_W})(?:DAN\b|STAN\b|DUDE\b|AIM\b"
          rf"|an?{_W}(?:unrestricted|unfiltered|uncensored|jailbroken|unaligned|amoral|evil)\b"
          rf"|an?{_W}AI{_W}(?:without|with{_W}no){_W}(?:any{_W})?(?:restrictions|limits|rules"
          rf"|filters|guidelines))",
          ("dan", "stan", "dude", "aim", "unrestricted", "unfiltered", "uncensored",
           "jailbroken", "unaligned", "amoral", "evil", "ai")),
    _rule("do_anything_now", "prompt_injection",
          rf"\bdo{_W}anything{_W}now\b|\b(?:developer|god|jailbreak|dan){_W}mode{_W}(?:enabled"
          rf"|on|activated|unlocked)\b", ("anything", "mode")),
    _rule("reveal_your_prompt", "prompt_injection",
          rf"(?:\b(?:reveal|print|show|output|repeat|dump|leak|display|disclose|share|send|give|tell"
          rf"|return|recite|reply(?:{_W}only)?{_W}with|respond(?:{_W}only)?{_W}with|copy|paste|quote"
          rf"|(?:write|type){_W}out)"
          rf"(?:{_W}(?:me|us|back|the|full|entire|exact|complete|whole|original|verbatim|text"
          rf"|contents?|of))*{_W}your(?:{_W}(?:full|entire|exact|complete|whole|original|initial"
          rf"|hidden|internal|secret|current|underlying|raw|first|real|actual|starting|opening|base"
          rf"|core|verbatim))*{_W}(?:system{_W}(?:prompt|message|instructions)|instructions"
          rf"|developer{_W}(?:prompt|message)|prompt|(?:tool|function){_W}(?:list|definitions?"
          rf"|schemas?|specs?)|(?:initiali[sz]ation|setup|set-up|configuration|boot|startup|start-up"
          rf"|meta|pre)[{_W}\-]?(?:prompt|instructions|message|text))\b"
          rf"|\b(?:summari[sz]e|describe|explain|paraphrase|translate|enumerate){_W}(?:(?:me|us|the"
          rf"|full|entire|exact|complete|whole|contents?|of|all){_W})*your{_W}(?:(?:full|entire|exact"
          rf"|complete|whole|original|initial|hidden|internal|secret){_W})*(?:system{_W}(?:prompt"
          rf"|message|instructions)|(?:initial|hidden|secret|original|internal){_W}(?:prompt"
          rf"|instructions)|prompt)\b)"
          # "your prompt engineering guide", "your instructions for the recipe" are something else.
          r"(?![\s\-]+(?:engineer\w*|librar\w+|templates?|designs?|guides?|files?|folders?|repo\w*"
          r"|book|course|tips|ideas|examples?|writing|contest)\b)"
          r"(?!\s+(?:for|on|about)\s+(?:the|a|an|my|our|his|her|their)\b)",
          ("prompt", "instructions", "message", "list", "definition", "definitions", "schema",
           "schemas", "spec", "specs", "text"),
          requires=(("your",),)),
    _rule("prompt_replaced", "prompt_injection",
          rf"\b(?:your|the)(?:{_W}(?:previous|current|original|old))?{_W}system{_W}prompt"
          rf"{_W}(?:has|is|was)(?:{_W}been)?{_W}(?:updated|revoked|changed|replaced|overridden"
          rf"|overwritten|disabled|removed|lifted|suspended|cancell?ed|void)"
          rf"|\byour{_W}(?:instructions|guidelines|rules|restrictions){_W}(?:have|are)(?:{_W}been)?"
          rf"{_W}(?:updated|revoked|changed|replaced|overridden|lifted|removed|suspended)",
          ("prompt", "instructions", "guidelines", "rules", "restrictions")),
    _rule("system_prompt_banner", "prompt_injection",
          rf"#{{2,}}\s*(?:new{_W}|updated{_W})?system{_W}(?:prompt|message|instructions?)\s*#{{2,}}"
          rf"|\bsystem{_W}override\b|<\|(?:im_start|im_end|system|endoftext)\|>",
          ("system", "<|")),
    _rule("secrets_you_have", "prompt_injection",
          rf"\b(?:api{_W}keys?|passwords?|credentials|secrets|tokens|private{_W}keys)"
          rf"(?:{_W}(?:and|or){_W}\w+(?:{_W}\w+)?)?{_W}(?:that{_W})?you{_W}(?:have{_W}access"
          rf"{_W}to|know|can{_W}(?:see|access)|(?:have{_W})?stored)",
          ("key", "keys", "password", "passwords", "credentials", "secrets", "tokens"),
          requires=(("you",),)),
    _rule("tool_call_markup", "prompt_injection",
          r"<\s*tool_call\s*>|\[\[\s*tool\s*:|<\s*function_calls?\s*>|<\s*invoke\s+name\s*=",
          ("tool_call", "tool", "function_call", "function_calls", "invoke")),
    _rule("agent_must_run", "prompt_injection",
          rf"\b(?:the{_W})?(?:agent|assistant|model|ai|llm){_W}(?:must|should|shall|will)"
          rf"(?:{_W}(?:silently|now|immediately|quietly))?{_W}(?:run|execute|call|invoke|perform)"
          rf"{_W}(?:this|these|the{_W}following){_W}(?:tool|function|command)",
          ("tool", "function", "command")),
    _rule("persona_unbound", "prompt_injection", _PERSONA, _PERSONA_HINTS,
          requires=(_UNBOUND_HINTS + _SECRET_HINTS,), check=_persona_unbound),
    _rule("addressed_to_model", "prompt_injection", _ADDRESSEE, _ADDRESSEE_HINTS,
          requires=(_ADDRESS_HINTS,), check=_addressed_directive),
    _rule("hidden_instruction", "prompt_injection",
          # An element styled invisible whose text is an order: people never see it, models do.
          r"(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px|pt|em)?\b"
          r"|opacity\s*:\s*0(?:\.0+)?\b)[^<>\n]{0,120}>",
          ("display", "visibility", "font-size", "opacity"), check=_hidden_order),
    _rule("given_instructions", "prompt_injection", _GIVEN_INSTRUCTIONS,
          ("given", "told", "provided", "fed", "sent", "programmed", "configured", "set",
           "initialized", "initialised", "loaded", "primed", "received", "conversation", "chat",
           "session", "context"),
          requires=(("instructions", "instruction", "rules", "guidelines", "directives", "prompt",
                     "prompts", "message", "lines", "line", "text"),),
          check=_near(_VERBATIM_OR_START, before=150, after=250)),
    *(_rule(phrase.name, "prompt_injection", phrase.pattern, phrase.hints,
            requires=(phrase.requires,) if phrase.requires else ())
      for phrase in multilingual.OVERRIDES),
    _rule("persona_unbound_i18n", "prompt_injection", multilingual.PERSONA,
          multilingual.PERSONA_HINTS, requires=(multilingual.UNBOUND_HINTS,),
          check=_near(multilingual.UNBOUND, before=200, after=300)),
    # Weak cues: common in legitimate text alone, telling together.
    _rule("system_tag", "prompt_injection",
          r"<\s*/?\s*(?:system|sys|system_prompt|instructions?|assistant)\s*>"
          r"|\[\s*/?\s*(?:system|SYS|INST|assistant)\s*\]|(?:^|\n)\s*system\s*:",
          ("system>", "system]", "system:", "system :", "sys>", "sys]", "inst>",
           "inst]", "instruction>", "instructions>", "system_prompt>", "assistant>", "assistant]"),
          weight=_WEAK, group="markup"),
    _rule("hidden_markup", "prompt_injection",
          # Text styled to be invisible to people, or an HTML comment, still reaches a model.
          r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px|pt|em)?\b"
          r"|opacity\s*:\s*0(?:\.0+)?\s*[;\"']|<!--",
          ("display", "visibility", "font-size", "opacity", "<!--"), weight=_WEAK, group="markup"),
    _rule("new_instructions", "prompt_injection",
          rf"\b(?:new|updated|revised|additional|real|true){_W}(?:system{_W})?(?:instructions?|prompt"
          rf"|polic(?:y|ies)|rules|directives?|orders)(?:{_W}from{_W}(?:the{_W})?(?:administrator|admin"
          rf"|developer|operator|system|owner))?\s*:",
          ("instruction", "instructions", "prompt", "policy", "policies", "rules",
           "directive", "directives", "orders"), weight=_WEAK, group="policy"),
    _rule("your_new_task", "prompt_injection",
          rf"\byour{_W}(?:new|real|actual|true|only){_W}(?:task|job|role|goal|objective|mission"
          rf"|instructions?|purpose){_W}(?:is|are|:)",
          ("task", "job", "role", "goal", "objective", "mission", "instruction",
           "instructions", "purpose"), weight=_WEAK, group="policy",
          requires=(("your",),)),
    _rule("supersedes", "prompt_injection",
          rf"\b(?:this|these|it){_W}(?:supersedes?|overrides?|replaces?|takes?{_W}precedence{_W}over)"
          rf"{_W}(?:all{_W}|any{_W})?(?:the{_W})?(?:earlier|previous|prior|other|existing|original)"
          rf"{_W}(?:rules|instructions|guidance|guidelines|directives|prompts?)",
          ("supersede", "supersedes", "override", "overrides", "replace",
           "replaces", "precedence"), weight=_WEAK, group="policy"),
    _rule("conceal_from_user", "prompt_injection",
          rf"\b(?:do{_W}not|don'?t|never|without)(?:{_W}ever)?{_W}(?:mention(?:ing)?|reveal(?:ing)?"
          rf"|tell(?:ing)?|disclos(?:e|ing)|inform(?:ing)?|alert(?:ing)?|notify(?:ing)?)"
          rf"(?:{_W}(?:this|these|that|any{_W}of{_W}this|about{_W}this|it))?(?:{_W}(?:change|instruction"
          rf"|message|note|step|action|request)s?)?(?:{_W}(?:to|with))?{_W}(?:the{_W})?(?:user|human"
          rf"|operator)\b",
          ("mention", "mentioning", "reveal", "revealing", "tell", "telling",
           "disclose", "disclosing", "inform", "informing", "alert", "alerting",
           "notify", "notifying"), weight=_WEAK, group="action",
          requires=(("user", "human", "operator"),)),
    _rule("function_call_json", "prompt_injection", r"[\"'](?:function_call|tool_calls?)[\"']\s*:",
          ("function_call", "tool_call", "tool_calls"), weight=_WEAK, group="markup"),
    _rule("run_this_call", "prompt_injection",
          rf"\b(?:execute|run|call|invoke|perform){_W}(?:this|the{_W}following|these){_W}"
          rf"(?:function|tool)(?:{_W}calls?)?\b|\bcall{_W}the{_W}(?:tool|function){_W}\W?[\w.\-]+\W?"
          rf"{_W}with\b", ("function", "tool"), weight=_WEAK, group="action"),
    _rule("assistant_turn", "prompt_injection",
          r"(?:^|[\s.])(?:assistant|ai|agent|model)\s*:\s*(?:before|ignore|now|from\s+now|new|you)",
          ("assistant:", "ai:", "agent:", "model:"), weight=_WEAK, group="markup"),
    _rule("exfiltrate_history", "prompt_injection",
          rf"\b(?:send|forward|email|mail|post|upload|exfiltrate|copy){_W}(?:the{_W}|all{_W}|this"
          rf"{_W}|our{_W})?(?:entire{_W}|full{_W}|whole{_W}|complete{_W})?(?:conversation|chat"
          rf"|message){_W}(?:history|log|transcript)|\{{\{{\s*(?:secrets|conversation_history"
          rf"|system_prompt|env|api_key|password)\s*\}}\}}", ("conversation", "chat", "message", "{{"),
          weight=_WEAK, group="action"),
    _rule("list_secrets", "prompt_injection",
          rf"\b(?:list|print|reveal|send|give|share|dump|output|show|tell){_W}(?:me{_W})?(?:every|all"
          rf"|any)(?:{_W}of{_W}(?:the|your))?{_W}(?:api{_W}keys?|passwords?|secrets|credentials|tokens"
          rf"|private{_W}keys|environment{_W}variables|env{_W}vars)\b",
          ("key", "keys", "password", "passwords", "secrets", "credentials", "tokens", "variables",
           "vars"),
          weight=_WEAK, group="action"),
    _rule("secret_request", "prompt_injection", _SECRET_ASK, _SECRET_HINTS, weight=_WEAK,
          group="action", requires=(_ASK_HINTS,)),
    _rule("from_now_on", "prompt_injection",
          rf"\bfrom{_W}now{_W}on,?{_W}(?:you{_W})?(?:will|must|are|shall|should|only|always|never"
          rf"|respond|reply|act|answer|ignore)\b", ("from now on",), weight=_WEAK, group="policy"),
    _rule("turn_markers", "prompt_injection",
          rf"\b(?:end|ignore){_W}of{_W}(?:the{_W})?(?:user{_W})?(?:input|message|prompt|document)\b"
          rf"|\bbegin{_W}(?:new{_W})?(?:system|admin|developer|root){_W}(?:mode|message)\b"
          rf"|\b(?:admin|sudo|root|god|debug|maintenance|unrestricted){_W}(?:override|mode)\b"
          r"|</\s*(?:user|document|context|data)\s*>|\bpwned\b",
          ("input", "message", "prompt", "begin", "override", "mode", "pwned", "</"),
          weight=_WEAK, group="markup"),
    _rule("model_addressed", "prompt_injection",
          rf"\bnote{_W}to{_W}(?:the{_W}|any{_W})?(?:ai|assistant|model|llm|agent|chatbot|bot)s?\b"
          rf"|\b(?:ai|llm){_W}(?:assistants?|models?|agents?|systems?){_W}(?:reading|processing"
          rf"|parsing|summari[sz]ing){_W}this\b|\bif{_W}you{_W}are{_W}an?{_W}(?:ai|llm|language"
          rf"{_W}model|assistant|chatbot|bot)(?=\s*[,:;.!)-])|\b(?:dear|attention|hey)\s*,?{_W}"
          rf"(?:ai|model|assistant|llm|chatbot)s?\b|^\s*```\s*tool(?:_code|_call)?\s*$",
          ("note", "ai", "llm", "if", "dear", "attention", "hey", "tool", "tool_code", "tool_call"),
          weight=_WEAK, group="markup", flags=_I | re.MULTILINE),
    _rule("authority_claim", "prompt_injection",
          rf"\bi{_W}?(?:am|'m){_W}(?:your|the){_W}(?:developer|creator|administrator|admin|owner"
          rf"|operator|system|maker)\b",
          ("developer", "creator", "administrator", "admin", "owner", "operator", "system", "maker"),
          requires=(("i", "am", "m"),), weight=_WEAK, group="policy"),
    _rule("sensitive_tool_call", "prompt_injection",
          r"\b(?:send_email|send_mail|transfer_funds|wire_money|make_payment|run_shell|shell_exec"
          r"|exec_command|execute_command|run_command|delete_(?:repo|repository|database|db|user|users"
          r"|files?|bucket)|http_(?:get|post)|upload_file)\s*\(",
          ("send_email", "send_mail", "transfer_funds", "wire_money", "make_payment", "run_shell",
           "shell_exec", "exec_command", "execute_command", "run_command", "delete_repo",
           "delete_repository", "delete_database", "delete_db", "delete_user", "delete_users",
           "delete_file", "delete_files", "delete_bucket", "http_get", "http_post", "upload_file"),
          weight=_WEAK, group="action"),
    _rule("no_limits", "prompt_injection",
          rf"\bstay{_W}in{_W}character\b|\bnever{_W}refuses?\b|\b(?:with{_W})?no{_W}(?:content{_W})?"
          rf"(?:polic(?:y|ies)|restrictions|filters)\b|\bwithout{_W}(?:any{_W})?(?:restrictions"
          rf"|filters|limitations|censorship)\b|\bjailbr(?:oken|eak)\b",
          ("character", "refuse", "refuses", "policy", "policies", "restrictions",
           "filters", "limitations", "censorship", "jailbroken", "jailbreak"), weight=_WEAK, group="action"),
)

_WEAK_GROUPS_NEEDED: Final = 2


NON_PROMPT_RULES: Final = (SHELL_RULES + postexploit.RULES + PYTHON_RULES + HIDDEN_PYTHON_RULES
                           + SQL_RULES + sqli.RULES + POWERSHELL_RULES + windows.RULES
                           + ENCODED_RULES + indirection.RULES)


class _Gate:
    """What a text offers the rule hints: its lower-cased form and its set of tokens."""

    __slots__ = ("anchored", "lower", "tokens")

    def __init__(self, text: str) -> None:
        self.lower = lower = text.lower()
        # `?` (what the proxy puts for non-ASCII characters) is not a token character either.
        self.tokens = frozenset(ascii_translate(lower, _TOKEN_SPACES).split())
        self.anchored = AnchorText(text, lower)


class RuleSet:
    """Rules indexed by their hints, so a text selects the few rules worth running in one pass."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        # Bit i of a hint mask stands for rule i; each `requires` group of each rule has a bit of
        # its own in a group mask. A word or substring present in the text ORs in both masks;
        # rule i then runs when its bit is set and all of its group bits are.
        by_word: dict[str, list[int]] = {}
        by_substring: dict[str, list[int]] = {}
        needs: list[int] = []
        group = 0
        for i, rule in enumerate(rules):
            for word in rule.words:
                by_word.setdefault(word, [0, 0])[0] |= 1 << i
            for substring in rule.substrings:
                by_substring.setdefault(substring, [0, 0])[0] |= 1 << i
            need = 0
            for words, substrings in rule.requires:
                for word in words:
                    by_word.setdefault(word, [0, 0])[1] |= 1 << group
                for substring in substrings:
                    by_substring.setdefault(substring, [0, 0])[1] |= 1 << group
                need |= 1 << group
                group += 1
            needs.append(need)
        self._by_word = {w: (hint, grp) for w, (hint, grp) in by_word.items()}
        self._words = frozenset(by_word)
        # Substring hints all hold punctuation; keyed by their rarest character, most of them
        # cost a one-character search on prose instead of a substring search each.
        self._by_substring = KeyedLiterals((s, (hint, grp)) for s, (hint, grp) in by_substring.items())
        self._needs = tuple(needs)

    def select(self, gate: _Gate) -> list[Rule]:
        """The rules whose hints occur in the text, in declaration order."""
        by_word = self._by_word
        chosen = groups = 0
        for word in gate.tokens & self._words:
            hint, grp = by_word[word]
            chosen |= hint
            groups |= grp
        for hint, grp in self._by_substring.present(gate.lower):
            chosen |= hint
            groups |= grp
        selected = []
        rules = self.rules
        needs = self._needs
        while chosen:
            low = chosen & -chosen
            chosen ^= low
            i = low.bit_length() - 1
            need = needs[i]
            if groups & need == need:
                selected.append(rules[i])
        return selected


_NON_PROMPT: Final = RuleSet(NON_PROMPT_RULES)
_SQL: Final = RuleSet(SQL_RULES + sqli.RULES)
_PROMPT: Final = RuleSet(PROMPT_RULES + smuggling.RULES)


def _match_rules(text: str, rules: RuleSet, gate: _Gate) -> tuple[list[Detection], list[Rule]]:
    return _match_selected(rules.select(gate), gate)


def _match_selected(selected: list[Rule], gate: _Gate) -> tuple[list[Detection], list[Rule]]:
    found: list[Detection] = []
    matched_rules: list[Rule] = []
    for rule in selected:
        matched = False
        for m in anchored_finditer(rule.pattern, rule.anchors, gate.anchored):
            if rule.check is not None and not rule.check(m):
                continue
            matched = True
            found.append(Detection(rule.kind, m.start(), m.end(), rule.name))
        if matched:
            matched_rules.append(rule)
    return found, matched_rules


def is_injection(matched: list[Rule]) -> bool:
    """A strong cue, or weak cues of two different kinds (markup, policy talk, an action)."""
    if any(rule.weight >= _STRONG for rule in matched):
        return True
    return len({rule.group for rule in matched}) >= _WEAK_GROUPS_NEEDED


def _prompt_injections(text: str, gate: _Gate) -> list[Detection]:
    # Phrases are matched on a view with letter spacing and leetspeak undone.
    view = reveal_words(text, gate.tokens)
    if view.changed:
        gate = _Gate(view.text)
    selected = _PROMPT.select(gate)
    # Only rules that match count, so when even all of the selected ones together would not be
    # an injection, what they match is thrown away: skip the regex work (most texts with a cue).
    if not is_injection(selected):
        return []
    found, matched = _match_selected(selected, gate)
    if not is_injection(matched):
        return []
    if not view.changed:
        return found
    out = []
    for d in found:
        start, end = view.to_original(d.start, d.end)
        out.append(Detection(d.type, start, end, d.value))
    return out


def find_executables(text: str, *, depth: int = 0, first: bool = False) -> list[Detection]:
    """Executable payloads in `text`, including those hidden in encoded runs (kind `encoded`).

    With `first`, stop after the first stage that finds any: the list then starts as the full
    one would, which is all an encoded run's finding needs (its kind), and most decoded payloads
    are commands that the first stage finds.
    """
    gate = _Gate(text)
    found, _ = _match_rules(text, _NON_PROMPT, gate)
    shell_view = reveal_shell(text)
    if shell_view.changed:
        hidden, _ = _match_rules(shell_view.text, _NON_PROMPT, _Gate(shell_view.text))
        for d in hidden:
            start, end = shell_view.to_original(d.start, d.end)
            found.append(Detection(d.type, start, end, d.value))
    concat_view = reveal_concat(text)
    if concat_view.changed:
        hidden, _ = _match_rules(concat_view.text, _NON_PROMPT, _Gate(concat_view.text))
        for d in hidden:
            start, end = concat_view.to_original(d.start, d.end)
            found.append(Detection(d.type, start, end, d.value))
    sql_view = reveal_sql(text)
    if sql_view.changed:
        hidden, _ = _match_rules(sql_view.text, _SQL, _Gate(sql_view.text))
        for d in hidden:
            start, end = sql_view.to_original(d.start, d.end)
            found.append(Detection(d.type, start, end, d.value))
    if first and found:
        return found
    found.extend(_prompt_injections(text, gate))
    if first and found:
        return found
    if depth < MAX_DECODE_DEPTH:
        for run in find_encoded(text, gate.tokens):
            inner = find_executables(run.decoded, depth=depth + 1, first=True)
            if inner:
                found.append(Detection("encoded", run.start, run.end,
                                       f"{run.encoding}:{inner[0].type}"))
    return found
