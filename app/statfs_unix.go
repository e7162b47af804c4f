//go:build linux || darwin || freebsd

package app

import "syscall"

// volumeSpace returns the bytes free for sendbox (not those reserved for
// root) and the size of the volume that holds dir.
func volumeSpace(dir string) (free, total int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), nil
}
