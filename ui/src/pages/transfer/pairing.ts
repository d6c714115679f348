// Which datasets a set of files makes, as `mantle upload` decides (client/_pairing.py): a
// data type with one file property (`fastq`: reads) gets one dataset per file, one with two
// (`fastq_pair`: read1, read2) one per R1/R2 pair, each with its `sample` filled from the
// file names, unless the user named the files in the form or dropped a folder: then all the
// files are one dataset.
import type { Schemas } from "../../api/client";
import type { Picked, PickedFile } from "./collect";

type DataType = Schemas["DataTypePublic"];

const READ = /^(.+?)[._](?:R([12])(_\d{3})?|([12]))(\.(?:fastq|fq)(?:\.gz|\.bz2|\.zst)?)$/i;
const FIRST = /^(read_?1|r1|fastq_?1|fq_?1|forward|fwd|reads?_?forward|left)$/i;
const SECOND = /^(read_?2|r2|fastq_?2|fq_?2|reverse|rev|reads?_?reverse|right)$/i;

export type PlannedDataset = {
  name: string;
  files: PickedFile[];
  /** Properties the files fill: file properties (by file path) and the sample name. */
  properties: Record<string, string>;
};

export type DatasetPlan =
  | { kind: "one"; datasets: [PlannedDataset] }
  | { kind: "samples"; datasets: PlannedDataset[] }
  | { kind: "error"; message: string };

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** (sample key, 1 or 2) of a paired-read file name, or null. */
export function readOf(name: string): [string, 1 | 2] | null {
  const m = READ.exec(baseName(name));
  if (!m) return null;
  const read = Number(m[2] ?? m[4]) as 1 | 2;
  return [`${m[1]}${m[3] ?? ""}${m[5].toLowerCase()}`, read];
}

export function sampleName(name: string): string {
  const base = baseName(name);
  const m = READ.exec(base);
  if (m) return m[1];
  return base.replace(/\.(fastq|fq)(\.gz|\.bz2|\.zst)?$/i, "");
}

export function fileProperties(type: DataType): string[] {
  return type.properties.filter((p) => p.type === "file").map((p) => p.name);
}

/** The default name of a dataset of `files`: the folder's (or first file's) name. */
export function defaultName(files: PickedFile[]): string {
  if (files.length === 0) return "";
  return files.length > 1 ? files[0].path.split("/")[0] : files[0].path;
}

/** The datasets `picked` makes with data type `type`; `given` are the properties the user
 * filled in the form (a file property named there means: one dataset, as given). */
export function planDatasets(picked: Picked, type: DataType, given: Record<string, unknown>, name = ""): DatasetPlan {
  const one = (): DatasetPlan => ({
    kind: "one",
    datasets: [{ name: name.trim() || defaultName(picked.files), files: picked.files, properties: {} }],
  });
  const all = fileProperties(type);
  const open = all.filter((p) => !isGiven(given[p]));
  if (open.length === 0 || open.length !== all.length || open.length > 2) return one();
  if (picked.folders.length > 0 || picked.files.some((f) => f.path.includes("/"))) return one();
  let datasets: PlannedDataset[];
  if (open.length === 1) {
    datasets = picked.files.map((f) => ({ name: sampleName(f.path), files: [f], properties: { [open[0]]: f.path } }));
  } else {
    const paired = pairs(picked.files, open, type);
    if (typeof paired === "string") return { kind: "error", message: paired };
    datasets = paired;
  }
  const fillsSample = type.properties.some((p) => p.name === "sample") && !isGiven(given.sample);
  for (const d of datasets) if (fillsSample) d.properties.sample = d.name;
  if (datasets.length === 1 && name.trim()) datasets[0].name = name.trim();
  return { kind: "samples", datasets };
}

function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

function pairs(files: PickedFile[], props: string[], type: DataType): PlannedDataset[] | string {
  const [a, b] = props;
  let first: string;
  let second: string;
  if (FIRST.test(a) && SECOND.test(b)) [first, second] = [a, b];
  else if (FIRST.test(b) && SECOND.test(a)) [first, second] = [b, a];
  else
    return (
      `Data type '${type.name}' has file properties '${a}' and '${b}', and it is not clear which ` +
      `one is read 1: choose the file for each in the form below.`
    );
  const groups = new Map<string, Partial<Record<1 | 2, PickedFile>>>();
  for (const f of files) {
    const found = readOf(f.path);
    if (!found) {
      return (
        `${f.path}: not named like read 1 or read 2 (S1_R1_001.fastq.gz, S1_R1.fq.gz, ` +
        `S1_1.fastq.gz); choose the files for ${first} and ${second} in the form below.`
      );
    }
    const [key, read] = found;
    const group = groups.get(key) ?? {};
    if (group[read]) return `${group[read].path} and ${f.path}: both read ${read}.`;
    group[read] = f;
    groups.set(key, group);
  }
  const out: PlannedDataset[] = [];
  for (const group of groups.values()) {
    const r1 = group[1];
    const r2 = group[2];
    if (!r1 || !r2) {
      const lonely = (r1 ?? r2) as PickedFile;
      return `${lonely.path}: no matching read ${r1 ? 2 : 1}.`;
    }
    out.push({ name: sampleName(r1.path), files: [r1, r2], properties: { [first]: r1.path, [second]: r2.path } });
  }
  return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}
