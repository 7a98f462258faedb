// One word for sh (and for GLib's shell-like splitting): single-quoted, ' spelled '\''. Used where
// a command line must be text: script -c, the ssh wrapper, libslirp's guestfwd, and the virsh
// commands messages suggest to the user.
export function shellWord(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
