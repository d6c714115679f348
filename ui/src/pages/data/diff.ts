// What changed between two versions of a dataset: name, archived state, properties (added,
// removed, changed), files (by URI: added, removed, changed size/checksum) and tags.
import type { Schemas } from "../../api/client";
import { sameValue } from "./values";

type Version = Pick<Schemas["DatasetVersionPublic"], "name" | "properties" | "files" | "tags" | "archived">;
type DatasetFile = Schemas["DatasetFile"];

export type ValueChange = { key: string; kind: "added" | "removed" | "changed"; before?: unknown; after?: unknown };
export type FileChange = { uri: string; name: string; kind: "added" | "removed" | "changed"; before?: DatasetFile; after?: DatasetFile };

export type VersionDiff = {
  name?: { before: string; after: string };
  archived?: { before: boolean; after: boolean };
  properties: ValueChange[];
  files: FileChange[];
  tagsAdded: string[];
  tagsRemoved: string[];
};

/** The changes from `before` to `after`; `before` null means the first version (all added). */
export function diffVersions(before: Version | null, after: Version): VersionDiff {
  const old: Version = before ?? { name: after.name, properties: {}, files: [], tags: [], archived: false };
  const diff: VersionDiff = { properties: [], files: [], tagsAdded: [], tagsRemoved: [] };
  if (before && before.name !== after.name) diff.name = { before: before.name, after: after.name };
  if (before && before.archived !== after.archived) diff.archived = { before: before.archived, after: after.archived };

  const keys = [...new Set([...Object.keys(old.properties), ...Object.keys(after.properties)])].sort();
  for (const key of keys) {
    const had = key in old.properties;
    const has = key in after.properties;
    const a = old.properties[key];
    const b = after.properties[key];
    if (had && !has) diff.properties.push({ key, kind: "removed", before: a });
    else if (!had && has) diff.properties.push({ key, kind: "added", after: b });
    else if (!sameValue(a, b)) diff.properties.push({ key, kind: "changed", before: a, after: b });
  }

  const oldFiles = new Map(old.files.map((f) => [f.uri, f]));
  const newFiles = new Map(after.files.map((f) => [f.uri, f]));
  for (const [uri, f] of newFiles) {
    const was = oldFiles.get(uri);
    if (!was) diff.files.push({ uri, name: f.name, kind: "added", after: f });
    else if (!sameValue(was, f)) diff.files.push({ uri, name: f.name, kind: "changed", before: was, after: f });
  }
  for (const [uri, f] of oldFiles) {
    if (!newFiles.has(uri)) diff.files.push({ uri, name: f.name, kind: "removed", before: f });
  }

  const oldTags = new Set(old.tags);
  const newTags = new Set(after.tags);
  diff.tagsAdded = after.tags.filter((t) => !oldTags.has(t));
  diff.tagsRemoved = old.tags.filter((t) => !newTags.has(t));
  return diff;
}

export function isEmptyDiff(d: VersionDiff): boolean {
  return !d.name && !d.archived && !d.properties.length && !d.files.length && !d.tagsAdded.length && !d.tagsRemoved.length;
}
