"""Privilege escalation: the setuid bit on a shell-spawning program, and Python sandbox escapes."""

from __future__ import annotations

import base64

import pytest

from tests.unit.guardrail.helpers import kinds


@pytest.mark.parametrize("text", [
    "then they ran chmod u+s /usr/bin/vim to keep root",
    "sudo chmod a+s /usr/bin/python3",
    "chmod 4755 /bin/dash",
    "chmod 6777 /usr/local/bin/awk",
    "install step: chmod ug+xs /usr/bin/env",
    "cp /usr/bin/bash /var/tmp/.x && chmod u+s /var/tmp/.x && /var/tmp/.x -p",
    "chmod +s ./rootme; ./rootme -p",
    "sudo chmod u+s $(which nmap)",
    "chmod${IFS}+s${IFS}/bin/zsh",
    "install -m 6755 /usr/bin/dash /var/tmp/d",
    "find /srv -name x -exec /bin/bash -p \\; -quit",
])
def test_setuid_shell(text: str) -> None:
    assert "shell" in kinds(text)


def test_setuid_payload_hidden_in_base64() -> None:
    payload = base64.b64encode(b"cp /bin/dash /dev/shm/.d; chmod +s /dev/shm/.d; /dev/shm/.d -p")
    assert "encoded" in kinds(f"The cron entry decodes {payload.decode()} before running it")


@pytest.mark.parametrize("text", [
    "chmod g+s /srv/team-share so new files keep the group",
    "chmod 2775 /var/www/uploads",
    "chmod 0755 /usr/local/bin/report",
    "chmod u+x scripts/release.sh && scripts/release.sh",
    "Explain why the setuid bit (chmod u+s) on shells is dangerous.",
    "chmod 4755 /usr/bin/passwd restores the package default",
    "install -m 0755 build/report /usr/local/bin/report",
    "ssh -p 2222 deploy@bastion.example.com",
])
def test_benign_chmod(text: str) -> None:
    assert "shell" not in kinds(text)


@pytest.mark.parametrize("text", [
    "payload: [].__class__.__base__.__subclasses__()[117].__init__.__globals__['popen']('ls')",
    "name={{ ''.__class__.__mro__[2].__subclasses__()[40]('/etc/hosts').read() }}",
    "().__class__.__bases__[0].__subclasses__()[80]('whoami', shell=True, stdout=-1)",
    "{{ lipsum.__globals__['os'].popen('uname -a').read() }}",
    "{{ request.__init__.__globals__['__builtins__'] }}",
    "x = f.__globals__['__builtins__']['eval']('2+2')",
])
def test_python_sandbox_escape(text: str) -> None:
    assert "python" in kinds(text)


@pytest.mark.parametrize("text", [
    "for handler in BaseHandler.__subclasses__(): registry.add(handler)",
    "print(type(self).__name__, self.__class__.__mro__)",
    "assert Child.__bases__ == (Parent,)",
    "The __globals__ attribute of a function holds its module namespace.",
])
def test_benign_introspection(text: str) -> None:
    assert "python" not in kinds(text)
