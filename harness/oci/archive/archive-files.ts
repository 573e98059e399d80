/**
 * The files of an image archive, wherever they are: members of a tar in memory, or files
 * under a layout directory. Readers of formats (OCI layout, docker save) ask for paths
 * relative to the archive's root and never see the host's file system.
 */
export interface ArchiveFiles {
  /** For messages, e.g. "images/quirky.tar" or "out/oci-layout". */
  readonly description: string;
  /** The file's bytes, or undefined when there is no such file. Refuses what is not a regular file or is larger than `maxBytes`. */
  read(path: string, maxBytes: number): Promise<Buffer | undefined>;
  /** Whether a regular file exists at `path`; false when nothing is there, a refusal when something else is (a link, a FIFO, a directory). */
  has(path: string): Promise<boolean>;
}
