// Where the repository is on disk: services' files, the stack files and the scripts the components
// ship are read from under it, whichever layer asks.

import * as path from "path";

/** The repository root (this file sits one folder below it). */
export const PROJECT_ROOT = path.resolve(__dirname, "..");
