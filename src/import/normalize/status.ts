import type { StatusClass } from "../records.js";

export interface StatusClasses {
  cancelled: readonly string[];
  completed: readonly string[];
}

/** Maps a raw status to its class, case-insensitively; anything not listed is "other". */
export function makeStatusClassifier(classes: StatusClasses): (status: string | null) => StatusClass {
  const byName = new Map<string, StatusClass>();
  for (const name of classes.completed) byName.set(name.trim().toLowerCase(), "completed");
  // Cancelled wins when a status is listed in both.
  for (const name of classes.cancelled) byName.set(name.trim().toLowerCase(), "cancelled");
  return (status) => (status === null ? "other" : (byName.get(status.trim().toLowerCase()) ?? "other"));
}
