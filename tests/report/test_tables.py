"""Tables saved cell by cell, resumed after an interruption or a kill."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from stablerecon.experiments import impossibility
from stablerecon.report.tables import TableProgress

SETTINGS = {"samples": 200, "epochs": 2, "layers": 3, "seed": 0}


def _rows_without_times(rows):
    return [{k: v for k, v in r.items() if k != "lista_train_s"} for r in rows]


class Stop(Exception):
    pass


def test_an_interrupted_table_resumes_to_the_uninterrupted_rows(tmp_path):
    whole = impossibility.run([10, 20], [1], **SETTINGS)
    saved = TableProgress(tmp_path, "t", {"ns": [10, 20], **SETTINGS}, resume=False)

    def save_then_stop(cell, rows):
        saved.save(cell, rows)
        raise Stop  # the run dies after its first cell

    with pytest.raises(Stop):
        impossibility.run([10, 20], [1], on_cell=save_then_stop, **SETTINGS)
    again = TableProgress(tmp_path, "t", {"ns": [10, 20], **SETTINGS}, resume=True)
    assert list(again.done) == ["K=1,n=10"]
    computed = []
    resumed = impossibility.run([10, 20], [1], done=again.done,
                                on_cell=lambda c, r: computed.append(c), **SETTINGS)
    assert computed == ["K=1,n=20"]  # the finished cell was not run again
    assert _rows_without_times(resumed) == _rows_without_times(whole)


def test_resume_with_other_settings_starts_again(tmp_path):
    TableProgress(tmp_path, "t", {"seed": 0}, resume=False).save("K=1,n=10", [{"n": 10}])
    assert TableProgress(tmp_path, "t", {"seed": 0}, resume=True).done
    assert not TableProgress(tmp_path, "t", {"seed": 1}, resume=True).done
    assert not TableProgress(tmp_path, "t", {"seed": 0}, resume=False).done


def _table(out, *extra):
    return [sys.executable, "-m", "stablerecon", "table", "impossibility", "--ns", "10,20,30",
            "--ks", "1", "--samples", "300", "--epochs", "3", "--layers", "3", "--out",
            str(out), *extra]


@pytest.mark.slow  # three short Table B runs in subprocesses (~30 s)
def test_a_killed_table_resumes_to_the_same_rows(tmp_path):
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_table(killed), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    state_file = killed / "table-impossibility-state.json"

    def cells():
        try:
            return list(json.loads(state_file.read_text())["cells"])
        except (OSError, ValueError):
            return []

    deadline = time.time() + 120
    while not cells() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 1 <= len(cells()) < 3, cells()
    resumed = subprocess.run(_table(killed, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    subprocess.run(_table(tmp_path / "whole"), check=True, capture_output=True)

    def rows(folder):
        return _rows_without_times(json.loads((folder / "table-impossibility.json").read_text()))

    assert rows(killed) == rows(tmp_path / "whole")
