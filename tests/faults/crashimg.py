#!/usr/bin/env python3
"""tests/faults/crashimg.py - the disk after a power cut, rebuilt from a
journal of tests/faults/crashsim.c (issue 17).  Python 3, standard library only.

Given the journal of a run, the traced directory as it was before the run
(the "snapshot": an empty directory, or a copy) and a cut time T (ns of
CLOCK_MONOTONIC, the clock of the journal and of time.monotonic_ns()),
build_image() writes the directory a disk would hold after losing power at T:

  - an operation that had not returned by T never lands;
  - a write (or a size change: truncate, fallocate, O_TRUNC) to a file is
    durable when it returned before the start of an fsync or fdatasync of
    the same file (through any descriptor; msync: of the range it covers;
    syncfs and sync: of every file) that returned 0 before T;
  - a write through an O_DSYNC or O_SYNC descriptor is durable when it
    returns;
  - every other operation that returned before T is kept or dropped at
    random (probability `keep`), and a kept write may be torn (probability
    `tear`): only a random non-empty prefix of the 512-byte sectors it
    touches lands (a write within one sector is never torn);
  - creates, renames and unlinks are durable when they return (crashsim.c
    does not model directory entries);
  - in a journal written with HG_CRASH_LIE=1 (a disk that ignores flushes)
    nothing is durable by a sync or O_DSYNC: every operation is a coin toss.

Operations are applied in the order they returned (journal order on a tie),
with the file-size semantics of each (a write past the end extends the file
with zeros, truncate shrinks or extends it).  The random choices come from
random.Random(seed) in that order, so the same journal, cut and seed give
the same image.

Library: Journal(path), build_image(journal, snapshot, out, cut, seed),
pick_cuts(journal, n, seed).  Command line:

    crashimg.py info JOURNAL                  processes, files, operations, span
    crashimg.py cuts JOURNAL N [--seed S]     N cut times, weighted toward heavy writing
    crashimg.py build JOURNAL SNAPSHOT OUT --cut T [--seed S] [--keep P] [--tear P]
    crashimg.py ops JOURNAL [--around T] [--window NS] [--file NAME]
                                              the records (e.g. around a failing cut)
"""
import argparse
import collections
import os
import random
import shutil
import stat
import struct
import sys

REC = struct.Struct("<IHHiiiIIIqqqqQQ")  # crashsim.c's struct rec
MAGIC = 0x4A434748
(OP_INIT, OP_OPEN, OP_WRITE, OP_TRUNCATE, OP_FALLOCATE, OP_FSYNC, OP_FDATASYNC, OP_SYNC_RANGE,
 OP_MSYNC, OP_SYNCFS, OP_RENAME, OP_UNLINK, OP_CLOSE) = range(1, 14)
OP_NAMES = {v: k[3:].lower() for k, v in globals().items() if k.startswith("OP_")}
F_DSYNC, F_LIE = 1, 2
SECTOR = 512
O_TRUNC = 0o1000
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE = 0x01, 0x02, 0x10
SIZE_OPS = (OP_WRITE, OP_TRUNCATE, OP_FALLOCATE, OP_OPEN)  # what a cut can lose
SYNC_OPS = (OP_FSYNC, OP_FDATASYNC, OP_MSYNC, OP_SYNCFS)   # what makes it durable


class Rec:
    __slots__ = ("idx", "op", "flags", "pid", "tid", "fd", "ret", "off", "len", "aux", "t0", "t1",
                 "path", "path2", "data")

    def __init__(self, idx, fields, path, path2, data):
        self.idx = idx
        (_, self.op, self.flags, self.pid, self.tid, self.fd, _, _, _, self.ret, self.off,
         self.len, self.aux, self.t0, self.t1) = fields
        self.path, self.path2, self.data = path, path2, data

    def __repr__(self):
        extra = {OP_WRITE: f" off={self.off} len={self.len}" + (" dsync" if self.flags & F_DSYNC else ""),
                 OP_TRUNCATE: f" len={self.off}", OP_FALLOCATE: f" mode={self.aux} off={self.off} len={self.len}",
                 OP_OPEN: f" flags={self.aux:#o}", OP_RENAME: f" -> {self.path2}",
                 OP_MSYNC: f" off={self.off} len={self.len}"}.get(self.op, "")
        if self.op in (OP_FSYNC, OP_FDATASYNC) and self.aux & 1:
            extra = " (a directory)"
        ret = f" ret={self.ret}" if self.op in SYNC_OPS + (OP_CLOSE,) and self.ret else ""
        return (f"#{self.idx} {self.t0}..{self.t1} pid={self.pid} tid={self.tid} "
                f"{OP_NAMES.get(self.op, self.op)} {self.path}{extra}{ret}" + (" LIE" if self.flags & F_LIE else ""))


class Journal:
    """A crashsim journal: .recs sorted by (t1, journal order), .root (the
    traced directory), .lie (recorded with HG_CRASH_LIE), .truncated (the
    last record was cut short, e.g. read while a process still wrote)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.raw = f.read()
        buf, pos, recs, roots = memoryview(self.raw), 0, [], set()
        self.truncated, self.lie = False, False
        while pos < len(buf):
            if pos + REC.size > len(buf):
                self.truncated = True
                break
            fields = REC.unpack_from(buf, pos)
            if fields[0] != MAGIC:
                raise ValueError(f"{path}: bad record magic at byte {pos}")
            pl, p2l, dl = fields[6], fields[7], fields[11]
            end = pos + REC.size + pl + p2l + (dl if fields[1] == OP_WRITE else 0)
            if end > len(buf):
                self.truncated = True
                break
            p = pos + REC.size
            path = bytes(buf[p:p + pl]).decode(errors="surrogateescape")
            path2 = bytes(buf[p + pl:p + pl + p2l]).decode(errors="surrogateescape")
            data = buf[p + pl + p2l:end] if fields[1] == OP_WRITE else None
            r = Rec(len(recs), fields, path, path2, data)
            recs.append(r)
            if r.op == OP_INIT:
                roots.add(r.path)
                self.lie = self.lie or bool(r.aux)
            pos = end
        if len(roots) > 1:
            raise ValueError(f"{path}: processes traced different directories: {sorted(roots)}")
        self.root = roots.pop() if roots else None
        recs.sort(key=lambda r: (r.t1, r.idx))
        self.recs = recs
        body = [r for r in recs if r.op != OP_INIT]
        self.start = min((r.t0 for r in body), default=0)
        self.end = max((r.t1 for r in body), default=0)

    def rel(self, path):
        """path relative to the traced directory, or None outside it."""
        if not path or not self.root:
            return None
        p = os.path.normpath(path)
        if p == self.root or not p.startswith(self.root.rstrip("/") + "/"):
            return None
        return os.path.relpath(p, self.root)


def _snapshot_files(snapshot):
    files, dirs = {}, []
    for d, subdirs, names in os.walk(snapshot):
        for s in subdirs:
            dirs.append(os.path.relpath(os.path.join(d, s), snapshot))
        for n in names:
            p = os.path.join(d, n)
            if stat.S_ISREG(os.lstat(p).st_mode):
                with open(p, "rb") as f:
                    files[os.path.relpath(p, snapshot)] = (bytearray(f.read()), stat.S_IMODE(os.lstat(p).st_mode))
    return files, dirs


def _apply(content, r, data=None):
    """One size or content operation on a file's bytearray."""
    if r.op == OP_WRITE:
        if r.off > len(content):
            content.extend(bytes(r.off - len(content)))
        content[r.off:r.off + len(data)] = data
    elif r.op == OP_TRUNCATE or (r.op == OP_OPEN and r.aux & O_TRUNC):
        n = r.off if r.op == OP_TRUNCATE else 0
        if n < len(content):
            del content[n:]
        else:
            content.extend(bytes(n - len(content)))
    elif r.op == OP_FALLOCATE:
        end, size = r.off + r.len, len(content)
        if r.aux & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE):
            lo, hi = min(r.off, size), min(end, size)
            content[lo:hi] = bytes(hi - lo)
        if not r.aux & FALLOC_FL_KEEP_SIZE and end > len(content):
            content.extend(bytes(end - len(content)))


def build_image(journal, snapshot, out, cut, seed=0, keep=0.5, tear=0.5):
    """Write to out (created; must not exist) the traced directory as a disk
    would hold it after a power cut at cut.  Returns counts: ops (returned
    before the cut), durable, kept, dropped, torn (kept in part), pending
    (running at the cut), files, and notes (what could not be modelled)."""
    rng = random.Random(seed)
    files, dirs = _snapshot_files(snapshot)
    fids = {}        # name -> fid
    body = {}        # fid -> [bytearray, mode]
    for name, (content, mode) in files.items():
        fids[name] = len(body)
        body[len(body)] = [content, mode]
    done = [r for r in journal.recs if r.t1 < cut and r.op != OP_INIT]
    stats = collections.Counter(pending=sum(1 for r in journal.recs if r.op != OP_INIT and r.t0 < cut <= r.t1))
    notes = []

    def fid_of(name, mode=0o600):
        if name not in fids:
            fids[name] = len(body)
            body[len(body)] = [bytearray(), mode]
        return fids[name]

    # pass 1: the file each operation touched (names follow renames) and the
    # latest start of a successful sync of each file that returned before the cut
    target, last_sync, ranged, sync_all = {}, {}, collections.defaultdict(list), -1
    for r in done:
        name = journal.rel(r.path)
        if r.op == OP_RENAME:
            new = journal.rel(r.path2)
            fid = fids.pop(name, None) if name else None
            if new is not None:
                if fid is None:
                    notes.append(f"#{r.idx}: {r.path2} renamed from outside: its content is unknown (empty)")
                    fid = len(body)
                    body[fid] = [bytearray(), 0o600]
                fids[new] = fid
        elif r.op == OP_UNLINK:
            if name is not None:
                fids.pop(name, None)
        elif r.op == OP_SYNCFS:
            if r.ret == 0 and not r.flags & F_LIE:
                sync_all = max(sync_all, r.t0)
        elif r.op == OP_CLOSE or (r.op in (OP_FSYNC, OP_FDATASYNC) and r.aux & 1):
            continue  # a close changes nothing; a directory's sync: entries are durable at once
        elif name is not None:
            fid = fid_of(name, (r.off & 0o7777 & ~0o022) if r.op == OP_OPEN else 0o600)
            target[r.idx] = fid
            if r.op in (OP_FSYNC, OP_FDATASYNC) and r.ret == 0 and not r.flags & F_LIE:
                last_sync[fid] = max(last_sync.get(fid, -1), r.t0)
            elif r.op == OP_MSYNC and r.ret == 0 and not r.flags & F_LIE:
                ranged[fid].append((r.t0, r.off, r.off + r.len))

    def durable(r, fid):
        if r.flags & F_LIE:
            return False
        if r.op == OP_WRITE and r.flags & F_DSYNC:
            return True
        if r.t1 < max(last_sync.get(fid, -1), sync_all):
            return True
        end = r.off + (r.len if r.op in (OP_WRITE, OP_FALLOCATE) else 0)
        return any(t0 > r.t1 and lo < max(end, r.off + 1) and r.off < hi for t0, lo, hi in ranged.get(fid, ()))

    # pass 2: apply, in the order the operations returned
    for r in done:
        fid = target.get(r.idx)
        if fid is None or r.op not in SIZE_OPS or (r.op == OP_OPEN and not r.aux & O_TRUNC):
            continue
        stats["ops"] += 1
        data = r.data
        if durable(r, fid):
            stats["durable"] += 1
        elif rng.random() >= keep:
            stats["dropped"] += 1
            continue
        else:
            stats["kept"] += 1
            if r.op == OP_WRITE and rng.random() < tear:
                cuts = range((r.off // SECTOR + 1) * SECTOR, r.off + len(data), SECTOR)
                if len(cuts):
                    data = data[:rng.choice(cuts) - r.off]
                    stats["torn"] += 1
        if r.op == OP_FALLOCATE and r.aux & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE):
            notes.append(f"#{r.idx}: fallocate mode {r.aux:#x} not modelled")
            continue
        _apply(body[fid][0], r, data)

    os.makedirs(out, mode=0o700)
    for d in sorted(dirs):
        os.makedirs(os.path.join(out, d), mode=0o700, exist_ok=True)
    for name, fid in sorted(fids.items()):
        if any(other.startswith(name + "/") for other in fids):
            notes.append(f"{name}: both a file and a directory; the file is left out")
            continue
        p = os.path.join(out, name)
        os.makedirs(os.path.dirname(p), mode=0o700, exist_ok=True)
        with open(p, "wb") as f:
            f.write(body[fid][0])
        os.chmod(p, body[fid][1] or 0o600)
    stats["files"] = len(fids)
    stats = dict(stats)
    stats["notes"] = notes
    return stats


def pick_cuts(journal, n, seed=0, lo=None, hi=None):
    """n cut times in [lo, hi] (default: the journal's span), sorted.  Three
    in four fall inside a write or sync: a file that was written is picked
    (each file alike, so a busy sink file does not crowd out the store's),
    then one of its operations, so that most cuts fall where that file was
    written most; one in four falls anywhere."""
    rng = random.Random(seed)
    lo = journal.start if lo is None else lo
    hi = journal.end if hi is None else hi
    busy = collections.defaultdict(list)
    for r in journal.recs:
        if r.op in SIZE_OPS + SYNC_OPS and r.op != OP_OPEN and not (r.op in (OP_FSYNC, OP_FDATASYNC) and r.aux & 1) \
                and lo <= r.t0 and r.t1 <= hi and journal.rel(r.path):
            busy[journal.rel(r.path)].append(r)
    files = sorted(f for f, rs in busy.items() if any(r.op == OP_WRITE for r in rs))
    cuts = []
    for _ in range(n):
        if files and rng.random() < 0.75:
            r = rng.choice(busy[rng.choice(files)])
            cuts.append(rng.randint(r.t0, r.t1 + 1))
        else:
            cuts.append(rng.randint(lo, max(lo, hi)))
    return sorted(cuts)


def _info(j):
    ops = collections.Counter(OP_NAMES.get(r.op, r.op) for r in j.recs)
    procs = sorted({(r.pid, r.path2) for r in j.recs if r.op == OP_INIT})
    names = sorted({j.rel(r.path) for r in j.recs if r.op in SIZE_OPS or (r.op in SYNC_OPS and not r.aux & 1)
                    and r.op != OP_SYNCFS} - {None})
    print(f"root {j.root}{'  (lying disk: HG_CRASH_LIE)' if j.lie else ''}"
          f"{'  (last record truncated)' if j.truncated else ''}")
    print(f"span {j.start}..{j.end} ns ({(j.end - j.start) / 1e9:.3f} s)")
    for pid, exe in procs:
        print(f"process {pid} {exe}")
    print("files " + " ".join(names))
    print("ops " + " ".join(f"{k}={v}" for k, v in sorted(ops.items())))
    print(f"bytes written {sum(r.len for r in j.recs if r.op == OP_WRITE)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("info")
    p.add_argument("journal")
    p = sub.add_parser("cuts")
    p.add_argument("journal")
    p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("build")
    p.add_argument("journal")
    p.add_argument("snapshot")
    p.add_argument("out")
    p.add_argument("--cut", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", type=float, default=0.5)
    p.add_argument("--tear", type=float, default=0.5)
    p = sub.add_parser("ops")
    p.add_argument("journal")
    p.add_argument("--around", type=int)
    p.add_argument("--window", type=int, default=5_000_000)
    p.add_argument("--file")
    a = ap.parse_args(argv)
    j = Journal(a.journal)
    if a.cmd == "info":
        _info(j)
    elif a.cmd == "cuts":
        print("\n".join(str(t) for t in pick_cuts(j, a.n, a.seed)))
    elif a.cmd == "build":
        if os.path.exists(a.out):
            shutil.rmtree(a.out) if os.path.isdir(a.out) else os.unlink(a.out)
        s = build_image(j, a.snapshot, a.out, a.cut, a.seed, a.keep, a.tear)
        for note in s.pop("notes"):
            print("note: " + note, file=sys.stderr)
        print(" ".join(f"{k}={v}" for k, v in sorted(s.items())))
    else:
        for r in j.recs:
            if a.around is not None and abs(r.t1 - a.around) > a.window:
                continue
            if a.file and j.rel(r.path) != a.file:
                continue
            print(("* " if a.around is not None and r.t1 >= a.around else "  ") + repr(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
