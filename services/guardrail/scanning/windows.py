"""Windows attack shapes beyond `iex (iwr ...)` and `-EncodedCommand`.

Script launches that only an intruder needs (an execution-policy bypass running a script from a
share, a URL or a temp dir; a hidden `Start-Process` of a shell or script host), living-off-the-land
binaries used to fetch or run code (LOLBAS: rundll32, mshta, regsvr32, msiexec, wmic, cmstp),
AMSI bypasses, turning Defender, the firewall or the event logs off, and credential dumping
(mimikatz modules, LSASS dumps, SAM/SYSTEM hive and NTDS.dit copies). `Start-Process notepad.exe`
and `powershell -ExecutionPolicy Bypass -File .\\build.ps1` in a CI script stay out.
"""

from __future__ import annotations

from typing import Final

from services.guardrail.scanning.rules import rule

# Where a dropped or staged script lives: a share, a URL, a temp or public directory.
_REMOTE_OR_STAGED: Final = (
    r"(?:\\\\[\w.\-$]+\\[\w$.\-]+|https?://|(?:%(?:temp|tmp|appdata|public|programdata)%"
    r"|\$env:(?:temp|tmp|appdata|localappdata|public|programdata)|c:\\users\\public"
    r"|c:\\windows\\temp|c:\\programdata|c:\\perflogs)[\\/])")
_SCRIPT_HOST: Final = (r"(?:powershell|pwsh|cmd|wscript|cscript|mshta|rundll32|regsvr32|msiexec"
                       r"|certutil|bitsadmin)(?:\.exe)?\b")

POWERSHELL_LAUNCH_RULES: Final = (
    rule("policy_bypass_staged_script", "powershell",
         # `-ep bypass -f \\host\share\x.ps1`, `-ExecutionPolicy Bypass -File %TEMP%\u.ps1`
         r"-(?:ep|ex|exe|exec|executionpolicy)\s+['\"]?(?:bypass|unrestricted)\b[^\n]{0,200}?"
         rf"-(?:f|fi|file|c|command)\s+['\"]?(?:&\s*)?['\"]?{_REMOTE_OR_STAGED}"
         rf"|-(?:f|fi|file)\s+['\"]?{_REMOTE_OR_STAGED}[^\n]{{0,200}}?"
         r"-(?:ep|ex|exe|exec|executionpolicy)\s+['\"]?(?:bypass|unrestricted)\b",
         ("bypass", "unrestricted")),
    rule("hidden_start_process", "powershell",
         # A hidden window for a shell, a script host, a script or something staged.
         r"\b(?:start-process|saps)\b(?=[^\n]{0,300}?-w(?:in|indow|indowstyle)?\s+['\"]?hidden\b)"
         rf"(?=[^\n]{{0,300}}?(?:\b{_SCRIPT_HOST}|\.(?:ps1|vbs|vbe|hta|js|jse|bat|cmd|scr|wsf)\b"
         rf"|{_REMOTE_OR_STAGED}|-(?:ep|executionpolicy)\s+bypass|-enc))",
         ("start", "saps"), requires=(("hidden",),)),
    rule("invoke_obfuscation", "powershell",
         # Invoke-Obfuscation spells `iex` from the letters of built-in variables.
         r"(?:\$shellid|\$pshome|\$env:comspec|\$verbosepreference\.tostring\(\))\s*\[\s*\d+"
         r"(?:\s*,\s*\d+)*\s*\]\s*(?:\+|-join)",
         ("$shellid", "$pshome", "comspec", "$verbosepreference")),
    rule("download_run_windows", "powershell",
         # A download into an executable file that the same line then starts.
         r"\b(?:curl|wget|iwr|invoke-webrequest|certutil|bitsadmin|start-bitstransfer)\b[^\n]{0,200}?"
         r"[\s\"'](?P<drop>(?:%\w+%|\$env:\w+)?[\w:\\/.\-]*\.(?:exe|dll|scr|bat|cmd|ps1|hta|vbs))"
         r"[\"']?[^\n]{0,120}?(?:&&?|;|\|\||\n)\s*(?:start(?:-process)?\s+(?:\"\"\s+)?|&\s*|call\s+)?"
         r"[\"']?(?P=drop)\b",
         ("curl", "wget", "iwr", "invoke", "certutil", "bitsadmin", "bitstransfer")),
)

LOLBIN_RULES: Final = (
    rule("lolbin_exec", "powershell",
         r"\brundll32(?:\.exe)?\s+(?:javascript:|vbscript:|\\\\[\w.\-]+\\"
         r"|[\w\\:]*url\.dll\s*,\s*(?:openurl|fileprotocolhandler)\s+\S*(?:https?:|\\\\|\.hta\b)"
         r"|[\w\\:]*shell32\.dll\s*,\s*shellexec_rundll\s+\S*(?:https?:|\\\\|%temp%)"
         r"|[\w\\:]*(?:pcwutl|advpack|ieadvpack|setupapi|zipfldr)\.dll\s*,\s*\w+\s+\S*"
         r"(?:https?:|\\\\|%temp%|\.(?:exe|inf|hta)\b))"
         r"|\bmshta(?:\.exe)?\s+['\"]?(?:\\\\[\w.\-]+\\|https?:|vbscript:|javascript:|about:)"
         r"|\bregsvr32(?:\.exe)?\b[^\n]{0,80}/i:['\"]?(?:\\\\|https?:)"
         r"|\bmsiexec(?:\.exe)?\s+(?:/\w+\s+)*/(?:i|package|y)\s+['\"]?(?:https?://|\\\\)"
         r"|\bwmic(?:\.exe)?\b[^\n]{0,120}?\bprocess\s+call\s+create\b"
         r"|\bwmic(?:\.exe)?\b[^\n]{0,120}?/format:['\"]?(?:https?:|\\\\)"
         r"|\bcmstp(?:\.exe)?\s+/(?:s|ni)\b[^\n]{0,40}/(?:s|ns|ni)\b"
         r"|\bcertutil(?:\.exe)?\s+-decode(?:hex)?\s+\S+\s+\S+\.(?:exe|dll|ps1|bat|vbs|hta)\b",
         ("rundll32", "mshta", "regsvr32", "msiexec", "wmic", "cmstp", "certutil")),
)

DEFENCE_EVASION_RULES: Final = (
    rule("amsi_bypass", "powershell",
         r"\[ref\]\s*\.\s*assembly\s*\.\s*gettypes?\s*\("
         r"|['\"]system\.management\.automation\.amsiutils['\"]"
         r"|\bamsiinitfailed['\"]?\s*,\s*['\"]?nonpublic"
         r"|(?:getfield|setvalue)\s*\([^\n]{0,80}?amsi(?:initfailed|context|session)\b"
         r"|\bamsiscanbuffer\b[^\n]{0,600}?(?:virtualprotect|getprocaddress|marshal\]::copy"
         r"|writeprocessmemory)|(?:virtualprotect|getprocaddress)[^\n]{0,600}?\bamsiscanbuffer\b"
         r"|['\"]\*iutils['\"]|hklm:\\software\\microsoft\\amsi\\providers",
         ("ref", "amsiutils", "amsiinitfailed", "getfield", "setvalue", "amsiscanbuffer", "iutils",
          "providers")),
    rule("disable_defences", "powershell",
         r"\bsc(?:\.exe)?\s+(?:stop|delete|config)\s+windefend\b"
         r"|\bnetsh\s+(?:advfirewall\s+set\s+\w+\s+state\s+off|firewall\s+set\s+opmode\s+(?:mode=)?disable)"
         r"|\bset-netfirewallprofile\b[^\n]{0,60}-enabled\s+(?:false|0)\b"
         r"|\breg(?:\.exe)?\s+add\s+[^\n]{0,120}windows\s+defender[^\n]{0,120}"
         r"(?:disableantispyware|disablerealtimemonitoring|disablebehaviormonitoring)[^\n]{0,60}/d\s+1"
         r"|\buninstall-windowsfeature\s+(?:-name\s+)?windows-defender\b"
         r"|\bwevtutil(?:\.exe)?\s+(?:cl|clear-log)\s+(?:security|system|application)\b"
         r"|\bclear-eventlog\b[^\n]{0,40}\b(?:security|system|application)\b",
         ("sc", "netsh", "netfirewallprofile", "reg", "windowsfeature", "wevtutil", "eventlog")),
    rule("credential_dumping", "powershell",
         r"\b(?:sekurlsa::\w+|lsadump::(?:sam|secrets|dcsync|lsa|cache|trust)"
         r"|kerberos::(?:golden|silver|ptt|tgt)|token::elevate|dpapi::\w+|vault::cred|misc::memssp"
         r"|crypto::(?:capi|cng))\b"
         r"|\bprocdump(?:64)?(?:\.exe)?\b[^\n]{0,60}?-ma\b[^\n]{0,40}?\blsass\b"
         r"|\bcomsvcs(?:\.dll)?\s*,\s*(?:#\s*24|minidump)\b"
         r"|\breg(?:\.exe)?\s+save\s+['\"]?hklm\\(?:sam|system|security)\b"
         r"|\bntdsutil\b[^\n]{0,80}\bifm\b|\bout-minidump\b"
         r"|harddiskvolumeshadowcopy\d+\\windows\\(?:ntds\\ntds\.dit|system32\\config\\(?:sam|system))"
         r"|\bminidumpwritedump\b[^\n]{0,200}\blsass\b|\blsass\b[^\n]{0,200}\bminidumpwritedump\b"
         r"|\blazagne(?:\.exe)?\s+all\b|\bpypykatz\s+lsa\s+minidump\b|\bsecretsdump\.py\s+\S",
         ("sekurlsa", "lsadump", "kerberos", "elevate", "dpapi", "cred", "memssp", "capi", "cng",
          "procdump", "procdump64", "comsvcs", "reg", "ntdsutil", "minidump",
          "\\harddiskvolumeshadowcopy", "minidumpwritedump", "lazagne", "pypykatz", "secretsdump")),
)

RULES: Final = POWERSHELL_LAUNCH_RULES + LOLBIN_RULES + DEFENCE_EVASION_RULES
