import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** The first-load budget of every page: WASM + JS + CSS, brotli-compressed (issue 6). */
export const BUDGET_BYTES = 180_000;
/** The original product's single-page app, for comparison in BENCHMARKS.md. */
export const ORIGINAL_BYTES = 359_000;

export interface FirstLoad {
  page: string;
  files: { file: string; brotli: number }[];
  total: number;
}

/** The brotli size (quality 11, as the server's precompressed files) of one file. */
export function brotliSize(file: string): number {
  return zlib.brotliCompressSync(fs.readFileSync(file), {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
  }).length;
}

/** Measures the files a page made the browser fetch (paths under `siteRoot`). */
export function measure(page: string, siteRoot: string, urlPaths: string[]): FirstLoad {
  const unique = [...new Set(urlPaths)].sort();
  const files = unique.map((p) => ({ file: p, brotli: brotliSize(path.join(siteRoot, p)) }));
  return { page, files, total: files.reduce((sum, f) => sum + f.brotli, 0) };
}

/** The pages over the budget, as readable lines (empty when every page fits). */
export function overBudget(loads: FirstLoad[], budget = BUDGET_BYTES): string[] {
  return loads
    .filter((l) => l.total > budget)
    .map((l) => `${l.page}: ${l.total} bytes brotli > ${budget} (${l.files.map((f) => `${f.file} ${f.brotli}`).join(', ')})`);
}
