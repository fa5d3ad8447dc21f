// Field paths name the part of a request (or of the configuration) at fault: `header.prompts[2].box2d`,
// `npz.boxes[0]`, `routing.MR`. They are kept apart from the detail and composed from segments, so a layer that
// hands an error on under another path builds the new path; it never cuts the old one out of a message.

/** `path` under `prefix`: `header` + `prompts[2]` is `header.prompts[2]`; an index (`[2]`) attaches without a dot. */
export function fieldUnder(prefix: string, path: string): string {
  if (prefix === '') return path;
  if (path === '') return prefix;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/**
 * `path` with its leading segment `from` replaced by `to` (`prompts[2].box2d`, `prompts` -> `npz.boxes`:
 * `npz.boxes[2].box2d`); undefined when the path does not start with that segment.
 */
export function rebaseField(path: string, from: string, to: string): string | undefined {
  if (path === from) return to;
  if (path.startsWith(`${from}.`) || path.startsWith(`${from}[`)) return `${to}${path.slice(from.length)}`;
  return undefined;
}

/** The text a client or a log reads: `field: detail`, or the detail alone when no field is at fault. */
export function withField(field: string | undefined, detail: string): string {
  return field ? `${field}: ${detail}` : detail;
}
