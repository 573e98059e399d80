import { execa } from "execa";

export interface FcntlLockHolder {
  readonly pid: number;
  /** Resolves when the holder has exited (its lock released). */
  readonly ended: Promise<unknown>;
  release(): Promise<void>;
}

/**
 * A separate process that takes an fcntl write lock on `path` the way apt-get and dpkg do
 * (perl is part of every Debian system; the struct layout is that of 64-bit Linux), holds
 * it for `seconds`, then exits. Resolves once the lock is held.
 */
export async function holdFcntlLock(path: string, seconds: number): Promise<FcntlLockHolder> {
  const script = `use Fcntl qw(F_SETLK F_WRLCK SEEK_SET O_RDWR O_CREAT);
    sysopen(my $fh, $ARGV[0], O_RDWR|O_CREAT, 0640) or die "open: $!";
    my $l = pack("s s x4 q q i x4", F_WRLCK, SEEK_SET, 0, 0, 0);
    fcntl($fh, F_SETLK, $l) or die "lock: $!";
    $| = 1; print "locked\\n"; select(undef, undef, undef, $ARGV[1]);`;
  const child = execa("perl", ["-e", script, path, String(seconds)], { reject: false });
  await new Promise<void>((locked, reject) => {
    child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && locked());
    void child.then((r) => reject(new Error(`the lock holder exited before locking ${path}: ${r.stderr}`)));
  });
  const ended = child.then(() => undefined);
  return {
    pid: child.pid!,
    ended,
    release: async () => {
      child.kill("SIGKILL");
      await ended;
    },
  };
}

/** Where the perl holder's struct flock layout is right. */
export const CAN_HOLD_FCNTL_LOCKS = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");
