"""Helpers shared by the auth interop tests: a bare config root and runs of `courier TOOL`."""
import os
import pathlib
import subprocess


def make_root(tmp_path: pathlib.Path, modules: str = "authuserdb") -> pathlib.Path:
    root = tmp_path / "site"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "authdaemonrc").write_text(f'authmodulelist="{modules}"\nDEFAULTOPTIONS=""\n')
    return root


def write_userdb(root: pathlib.Path, text: str) -> pathlib.Path:
    path = root / "etc" / "userdb"
    path.write_text(text)
    path.chmod(0o600)
    return path


def courier_tool(bin_dir, root, tool, *args, input=None, timeout=60):
    env = dict(os.environ, COURIER_ROOT=str(root))
    return subprocess.run([str(bin_dir / "courier"), tool, *[str(a) for a in args]], capture_output=True,
                          text=True, input=input, env=env, timeout=timeout)
