// Files the user gave the page: dropped (files and whole folders, read through
// `webkitGetAsEntry`) or picked (`<input type=file multiple>`, or `webkitdirectory` for a
// folder). Each gets its path inside the dataset, `/`-separated, a folder's own name kept as
// the first segment (`reads/S1_R1.fastq.gz`), as `mantle upload` names them.

export type PickedFile = { file: File; path: string };
export type Picked = { files: PickedFile[]; folders: string[] };

/** From an `<input type=file>`: a folder picker gives every file its `webkitRelativePath`. */
export function filesFromInput(list: FileList | File[]): Picked {
  const files: PickedFile[] = [];
  const folders = new Set<string>();
  for (const file of Array.from(list)) {
    const relative = file.webkitRelativePath;
    if (relative) {
      folders.add(relative.split("/")[0]);
      files.push({ file, path: relative });
    } else {
      files.push({ file, path: file.name });
    }
  }
  return { files: sortByPath(files), folders: [...folders] };
}

/** From a drop. The entries must be taken while the drop event runs (the browser empties the
 * DataTransfer afterwards), so call this synchronously in the handler and await the result. */
export function filesFromDrop(data: DataTransfer): Promise<Picked> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(data.files ?? []));
  return (async () => {
    const files: PickedFile[] = loose.map((file) => ({ file, path: file.name }));
    const folders: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory) folders.push(entry.name);
      await walk(entry, files);
    }
    return { files: sortByPath(files), folders };
  })();
}

async function walk(entry: FileSystemEntry, into: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    into.push({ file, path: entry.fullPath.replace(/^\/+/, "") || file.name });
    return;
  }
  if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries answers in batches (about 100 at a time) until it answers none.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, into);
    }
  }
}

function sortByPath(files: PickedFile[]): PickedFile[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Adds `more` to `current`; a file with a path already there replaces it. */
export function mergePicked(current: Picked, more: Picked): Picked {
  const byPath = new Map(current.files.map((f) => [f.path, f]));
  for (const f of more.files) byPath.set(f.path, f);
  return {
    files: sortByPath([...byPath.values()]),
    folders: [...new Set([...current.folders, ...more.folders])],
  };
}
