package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is the file system the logs work on. Every file operation of the
// package goes through it, so that tests can inject failures (see package
// errorfs). OS is the real one.
type FS interface {
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Remove(name string) error
	RemoveAll(name string) error
	Rename(oldpath, newpath string) error
	MkdirAll(path string, perm os.FileMode) error
	ReadDir(name string) ([]fs.DirEntry, error)
	Stat(name string) (fs.FileInfo, error)
}

// File is an open file. Segment files are used with ReadAt and WriteAt only
// (never Read, Write or Seek at a position), so one File is shared by every
// reader and the writer.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Writer
	Truncate(size int64) error
	Sync() error
	Close() error
	Stat() (fs.FileInfo, error)
	Name() string
}

// OS is the operating system's file system.
var OS FS = osFS{}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not a typed nil File
	}
	return f, nil
}
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                  { return os.RemoveAll(name) }
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error)   { return os.ReadDir(name) }
func (osFS) Stat(name string) (fs.FileInfo, error)        { return os.Stat(name) }

// OSFile returns the operating system file behind f, for sendfile(2) and
// mmap(2); ok is false for files of other file systems, which are then read
// with ReadAt.
func OSFile(f File) (*os.File, bool) {
	switch v := f.(type) {
	case *os.File:
		return v, v != nil
	case interface{ OSFile() *os.File }:
		o := v.OSFile()
		return o, o != nil
	}
	return nil, false
}

// ReadFile reads a whole (small) file through fsys.
func ReadFile(fsys FS, name string) ([]byte, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxSmallFile {
		return nil, fmt.Errorf("storage: %s is %d bytes, more than a state file may hold", filepath.Base(name), st.Size())
	}
	buf := make([]byte, st.Size())
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// maxSmallFile bounds what ReadFile reads: state files are a few lines.
const maxSmallFile = 64 << 20

// WriteFileAtomic replaces dir/name with data: write a temp file, fsync it,
// rename it over the old one, fsync the directory. A crash leaves either the
// old or the new content (and perhaps a *.tmp file that readers ignore).
func WriteFileAtomic(fsys FS, dir, name string, data []byte) error {
	if err := writeFileSynced(fsys, dir, name, data); err != nil {
		return err
	}
	if err := SyncDir(fsys, dir); err != nil {
		return fmt.Errorf("storage: write %s: sync directory: %w", name, err)
	}
	return nil
}

// writeFileSynced is WriteFileAtomic without the directory fsync: the
// caller fsyncs the directory once after several files.
func writeFileSynced(fsys FS, dir, name string, data []byte) error {
	return writeFileReplacing(fsys, dir, name, data, true)
}

// WriteFileRenamed replaces dir/name with data by a temp file and a rename,
// without any fsync: atomic if the process dies, not if the machine does.
// Only for files that are checked when read and can be rebuilt from other
// data (a producer state snapshot).
func WriteFileRenamed(fsys FS, dir, name string, data []byte) error {
	return writeFileReplacing(fsys, dir, name, data, false)
}

func writeFileReplacing(fsys FS, dir, name string, data []byte, sync bool) error {
	final := filepath.Join(dir, name)
	tmp := final + tmpSuffix
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("storage: write %s: %w", name, err)
	}
	n, err := f.Write(data)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, final)
	}
	if err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("storage: write %s: %w", name, err)
	}
	return nil
}

// SyncDir fsyncs a directory, making the creation, renaming and removal of
// its entries durable.
func SyncDir(fsys FS, dir string) error {
	d, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
