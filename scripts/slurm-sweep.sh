#!/usr/bin/env bash
# A sweep as a Slurm job array: each array task runs one shard of a planned sweep, so four tasks share the runs
# of sweeps/NAME (shard i takes the runs whose index % 4 == i). The folder must be on a filesystem every node
# sees; resubmitting the array continues where it stopped (finished runs are skipped, stopped ones resumed).
#
#   swift build -c release
#   .build/release/legible sweep plan CONFIG.json --out sweeps/NAME
#   sbatch scripts/slurm-sweep.sh sweeps/NAME            # --array below sets the shard count
#   .build/release/legible sweep report sweeps/NAME      # any time; merges whatever has finished
#
# Submit from the repository root (paths in the sweep configuration are relative to it). What to set on a real
# cluster, on the command line (it overrides the lines below) or here:
#   --partition=NAME     the cluster's partition for CPU jobs (its default partition otherwise)
#   --array=0-(n-1)      n shards; each takes every n-th run, so n at most the number of runs
#   --cpus-per-task=T    BLAS threads per shard's model (passed as --threads); 1-4 suits models of Gemma 3 270M's size
#   --mem=M              the model in float32 plus working memory: about 3G for Gemma 3 270M (4G with RLPrompt)
#   --time=HH:MM:SS      a shard's limit; at the limit the run in progress saves and the next submission resumes it
# The sweep folder, the repository and the model must be on a filesystem every node sees (a shared home or
# project directory, not node-local /tmp), since shards on different nodes write into the same folder. LEGIBLE=path
# picks another build of the executable. scripts/slurm-test runs this script on a one-node cluster in CI.
#SBATCH --job-name=legible-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=24:00:00
#SBATCH --output=slurm-%x-%A_%a.out
#SBATCH --signal=B:INT@120
# --signal: two minutes before the time limit Slurm sends SIGINT (Ctrl-C) to this script, which is legible itself
# after the exec below; the shard stops after its current step and the next submission resumes it. (scancel's
# SIGTERM stops it the same way; the warning only leaves time for a long step, or a test evaluation, to end.)
set -euo pipefail

sweep="${1:?usage: sbatch scripts/slurm-sweep.sh sweeps/NAME}"
legible="${LEGIBLE:-.build/release/legible}"
shard="${SLURM_ARRAY_TASK_ID:?run through sbatch (a job array)}/${SLURM_ARRAY_TASK_COUNT:?run through sbatch (a job array)}"

exec "$legible" sweep run "$sweep" --shard "$shard" --threads "${SLURM_CPUS_PER_TASK:-1}"
