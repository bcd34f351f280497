#!/usr/bin/python3
"""Offline checks of the cluster files (no scheduler or API server needed): run `python3 deploy/check-manifests.py`.

Kubernetes: every document of deploy/k8s/*.yaml parses (python3-yaml) and the Jobs have what the API server would
demand (apiVersion batch/v1, a pod template with containers, each with a name and image, restartPolicy Never or
OnFailure, Never when podFailurePolicy is used) and what this project relies on (Indexed completion mode with
completions = parallelism = CRATE_SHARDS, volume mounts that name a declared volume, a claim declared by the
reproduce manifest). Slurm: every #SBATCH line comes before the first command (sbatch stops reading them there),
reproduce.sbatch asks for an array, a GPU and requeueing, and traps the signal of its time-limit warning (not TERM).
Both: every reproduce takes its shard from the host's `--shard auto` into ROOT/shards/{shard} (one description of
"shard i of n" for the Slurm array and the Indexed Job), every merge reads ROOT/shards/*/. When Slurm's `sbatch` is
installed (Debian: slurm-client), it parses every script's options with `--test-only` against
a throw-away one-node slurm.conf: it rejects an unknown or malformed option before it would contact a controller,
so "Unable to contact slurm controller" is the expected end of a good script here.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.abspath(__file__))
errors = []


def fail(where, message):
    errors.append(f"{where}: {message}")


def check_job(where, job, claims):
    spec = job.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    if job.get("apiVersion") != "batch/v1":
        fail(where, f"apiVersion is {job.get('apiVersion')!r}, not batch/v1")
    if not (job.get("metadata") or {}).get("name"):
        fail(where, "metadata.name is missing")
    restart = pod.get("restartPolicy")
    if restart not in ("Never", "OnFailure"):
        fail(where, f"a Job's pods need restartPolicy Never or OnFailure, not {restart!r}")
    if spec.get("podFailurePolicy") and restart != "Never":
        fail(where, "podFailurePolicy requires restartPolicy Never")
    containers = pod.get("containers") or []
    if not containers:
        fail(where, "the pod template has no containers")
    volumes = {v.get("name") for v in pod.get("volumes") or []}
    for v in pod.get("volumes") or []:
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim is not None and claim not in claims:
            fail(where, f"volume {v.get('name')} uses claim {claim!r}, which no manifest declares")
    names = {c.get("name") for c in containers}
    for rule in (spec.get("podFailurePolicy") or {}).get("rules") or []:
        container = (rule.get("onExitCodes") or {}).get("containerName")
        if container is not None and container not in names:
            fail(where, f"podFailurePolicy names container {container!r}, which the pod does not have")
    for c in containers:
        if not c.get("name") or not c.get("image"):
            fail(where, "a container lacks a name or an image")
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes:
                fail(where, f"volume mount {m.get('name')!r} names no volume of the pod")
    if spec.get("completionMode") != "Indexed":
        for c in containers:
            check_shard_command(where, " ".join(c.get("command") or []) + " " + " ".join(c.get("args") or []), "merge")
    if spec.get("completionMode") == "Indexed":
        completions, parallelism = spec.get("completions"), spec.get("parallelism")
        if not isinstance(completions, int) or completions < 1:
            fail(where, "an Indexed Job needs completions >= 1")
        if parallelism != completions:
            fail(where, f"parallelism {parallelism} != completions {completions}: shards would wait for each other")
        for c in containers:
            env = {e.get("name"): e.get("value") for e in c.get("env") or []}
            if env.get("CRATE_SHARDS") != str(completions):
                fail(where, f"CRATE_SHARDS is {env.get('CRATE_SHARDS')!r}, completions is {completions}")
            text = " ".join(c.get("command") or []) + " " + " ".join(c.get("args") or [])
            check_shard_command(where, text, "reproduce")


# "Shard i of n" has one description, the host's `reproduce --shard auto` (host/Planning/Shard.cs: a Slurm array task's
# SLURM_ARRAY_TASK_* variables, an Indexed Job pod's JOB_COMPLETION_INDEX with CRATE_SHARDS); every reproduce file
# passes it and names the shard's folder ROOT/shards/{shard}, every merge file reads ROOT/shards/*/.
SHARD_OUT = re.compile(r"""--out\s+['"]?\S*/shards/\{shard\}['"]?(\s|$)""")
MERGE_IN = re.compile(r"""['"]?\S*/shards/['"]?\*/""")


def check_shard_command(where, text, kind):
    if kind == "reproduce":
        if "--shard auto" not in text:
            fail(where, "reproduce does not get its shard from the host's --shard auto")
        if not SHARD_OUT.search(text):
            fail(where, "reproduce's --out is not ROOT/shards/{shard}, the folders merge reads")
        if re.search(r"JOB_COMPLETION_INDEX|SLURM_ARRAY_TASK_(MIN|MAX|STEP|COUNT)", text):
            fail(where, "computes the shard itself; --shard auto does that (host/Planning/Shard.cs)")
    elif " merge " in f" {text} " and not MERGE_IN.search(text):
        fail(where, "merge does not read ROOT/shards/*/")


def check_kubernetes():
    documents = []
    for path in sorted(glob.glob(os.path.join(ROOT, "k8s", "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if doc is not None:
                    documents.append((f"{os.path.relpath(path, ROOT)}#{i}", doc))
    claims = {d["metadata"]["name"] for _, d in documents if d.get("kind") == "PersistentVolumeClaim"}
    jobs = [(w, d) for w, d in documents if d.get("kind") == "Job"]
    if not any((d.get("spec") or {}).get("completionMode") == "Indexed" for _, d in jobs):
        fail("k8s", "no Indexed Job")
    for where, job in jobs:
        check_job(where, job, claims)
    return len(documents)


def check_slurm():
    scripts = sorted(glob.glob(os.path.join(ROOT, "slurm", "*.sbatch")))
    for path in scripts:
        where = os.path.relpath(path, ROOT)
        lines = open(path, encoding="utf-8").read().splitlines()
        if not lines or not lines[0].startswith("#!"):
            fail(where, "the first line must be a #! line")
        options, in_header = [], True
        for n, line in enumerate(lines[1:], start=2):
            stripped = line.strip()
            if stripped.startswith("#SBATCH"):
                if not in_header:
                    fail(where, f"line {n}: #SBATCH after the first command is ignored by sbatch")
                options.append(stripped[len("#SBATCH"):].strip())
            elif stripped and not stripped.startswith("#"):
                in_header = False
        for o in options:
            if not re.fullmatch(r"--[a-z-]+(=\S+)?", o):
                fail(where, f"#SBATCH {o!r} is not a --long-option[=value]")
        body = "\n".join(l for l in lines if not l.lstrip().startswith("#"))
        if where.endswith("reproduce.sbatch"):
            for need in ("--array=", "--gres=gpu", "--requeue", "--signal=B:"):
                if not any(o.startswith(need) for o in options):
                    fail(where, f"no #SBATCH {need}")
            check_shard_command(where, body, "reproduce")
            check_warning_signal(where, options, body)
        else:
            check_shard_command(where, body, "merge")
    sbatch_parse(scripts)
    return len(scripts)


def check_warning_signal(where, options, body):
    """--signal=B:SIG@T warns only the batch shell, which stops the host and requeues the task. SIG must not be TERM:
    scancel, `scontrol requeue` and the time limit send TERM to every process of the job, so the shell could not tell
    the warning from a cancel (and passing a second TERM on aborts the host before its checkpoint)."""
    for o in options:
        m = re.fullmatch(r"--signal=B:(?:SIG)?([A-Z0-9]+)@\d+", o)
        if o.startswith("--signal=") and not m:
            fail(where, f"#SBATCH {o}: expected --signal=B:SIG@seconds (the batch shell stops the host)")
        if not m:
            continue
        sig = m.group(1)
        if sig == "TERM":
            fail(where, f"#SBATCH {o}: Slurm sends TERM to every process on cancel and requeue too; warn with another signal (USR1)")
        if not re.search(rf"^\s*trap\s+.+\s(SIG)?{sig}(\s|$)", body, re.M):
            fail(where, f"#SBATCH {o}, but the script has no trap for {sig} (the default action ends the shell)")


def sbatch_parse(scripts):
    sbatch = shutil.which("sbatch")
    if sbatch is None:
        print("sbatch not installed: #SBATCH options checked by this script only")
        return
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "slurm.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("ClusterName=check\nSlurmctldHost=localhost\nMessageTimeout=1\nGresTypes=gpu\n"
                    "NodeName=localhost CPUs=8 Gres=gpu:1 State=UNKNOWN\nPartitionName=check Nodes=localhost Default=YES State=UP\n")
        env = dict(os.environ, SLURM_CONF=conf, CRATE_RESULTS=tmp)
        for path in scripts:
            where = os.path.relpath(path, ROOT)
            run = subprocess.run([sbatch, "--test-only", path], env=env, capture_output=True, text=True, timeout=60)
            text = (run.stdout + run.stderr).strip()
            if run.returncode != 0 and "Unable to contact slurm controller" not in text:
                fail(where, "sbatch rejects it: " + text.splitlines()[0] if text else f"sbatch exited {run.returncode}")
        print(f"sbatch --test-only parsed {len(scripts)} script(s) (no controller to submit to)")


def main():
    k8s, slurm = check_kubernetes(), check_slurm()
    for e in errors:
        print("error:", e, file=sys.stderr)
    print(f"{k8s} Kubernetes document(s), {slurm} sbatch script(s): {'OK' if not errors else f'{len(errors)} error(s)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
