/*
 * dir.c: directories for the fsimage shim: lookup, listing, entries, and
 * making files, directories and symlinks in them.
 */
#include "shim.h"

/* ------------------------------------------------------------------------ */
/* Directories.                                                             */

long shim_lookup(ext2_filsys fs, uint32_t dir, const char *name, int len,
		 uint32_t *ino)
{
	ext2_ino_t out = 0;
	errcode_t rc = ext2fs_lookup(fs, dir, name, len, NULL, &out);

	*ino = out;
	return rc;
}

typedef int (*shim_dirent_cb)(void *ctx, const char *name, int len,
			      uint32_t ino, int ftype);

struct iter_ctx {
	shim_dirent_cb cb;
	void *ctx;
};

static int iter_fn(ext2_ino_t dir, int entry, struct ext2_dir_entry *d,
		   int offset, int blocksize, char *buf, void *priv)
{
	struct iter_ctx *it = priv;

	(void)dir;
	(void)entry;
	(void)offset;
	(void)blocksize;
	(void)buf;
	if (it->cb(it->ctx, d->name, ext2fs_dirent_name_len(d), d->inode,
		   ext2fs_dirent_file_type(d)))
		return DIRENT_ABORT;
	return 0;
}

/* Calls cb for every live entry (including "." and ".."), in disk order. */
long shim_readdir(ext2_filsys fs, uint32_t dir, shim_dirent_cb cb, void *ctx)
{
	struct iter_ctx it = { cb, ctx };

	return ext2fs_dir_iterate2(fs, dir, 0, NULL, iter_fn, &it);
}

struct repl_ctx {
	const char *name;
	int len;
	ext2_ino_t ino;
	int ftype;
	int done;
};

static int repl_fn(ext2_ino_t dir, int entry, struct ext2_dir_entry *d,
		   int offset, int blocksize, char *buf, void *priv)
{
	struct repl_ctx *r = priv;

	(void)dir;
	(void)entry;
	(void)offset;
	(void)blocksize;
	(void)buf;
	if (ext2fs_dirent_name_len(d) != r->len ||
	    memcmp(d->name, r->name, r->len) != 0)
		return 0;
	d->inode = r->ino;
	ext2fs_dirent_set_file_type(d, r->ftype);
	r->done = 1;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

/* Points the existing entry `name` of `dir` at `ino` (rename over, ".."). */
long shim_replace_entry(ext2_filsys fs, uint32_t dir, const char *name, int len,
			uint32_t ino, int ftype)
{
	struct repl_ctx r = { name, len, ino, ftype, 0 };
	errcode_t rc;

	NEED_BITMAPS(fs);
	rc = ext2fs_dir_iterate2(fs, dir, 0, NULL, repl_fn, &r);
	if (rc)
		return rc;
	return r.done ? 0 : EXT2_ET_FILE_NOT_FOUND;
}

/* The file-type code stored in directory entries for an inode mode. */
static int ftype_of(uint16_t mode)
{
	switch (mode & LINUX_S_IFMT) {
	case LINUX_S_IFREG:
		return EXT2_FT_REG_FILE;
	case LINUX_S_IFDIR:
		return EXT2_FT_DIR;
	case LINUX_S_IFCHR:
		return EXT2_FT_CHRDEV;
	case LINUX_S_IFBLK:
		return EXT2_FT_BLKDEV;
	case LINUX_S_IFIFO:
		return EXT2_FT_FIFO;
	case LINUX_S_IFSOCK:
		return EXT2_FT_SOCK;
	case LINUX_S_IFLNK:
		return EXT2_FT_SYMLINK;
	default:
		return EXT2_FT_UNKNOWN;
	}
}

int shim_ftype_of_mode(uint32_t mode)
{
	return ftype_of(mode);
}

/* ext2fs_link, growing the directory by a block when it is full. */
long shim_link(ext2_filsys fs, uint32_t dir, const char *name, uint32_t ino,
	       int ftype)
{
	errcode_t rc;

	NEED_BITMAPS(fs);
	rc = ext2fs_link(fs, dir, name, ino, ftype);
	if (rc == EXT2_ET_DIR_NO_SPACE) {
		rc = ext2fs_expand_dir(fs, dir);
		if (rc)
			return rc;
		rc = ext2fs_link(fs, dir, name, ino, ftype);
	}
	return rc;
}

long shim_unlink(ext2_filsys fs, uint32_t dir, const char *name, uint32_t ino)
{
	NEED_BITMAPS(fs);
	return ext2fs_unlink(fs, dir, name, ino, 0);
}

static void init_times(ext2_filsys fs, struct ext2_inode_large *in, int64_t s,
		       uint32_t ns)
{
	stamp(fs, in, T_ATIME | T_MTIME | T_CTIME | T_CRTIME, s, ns, s, ns, s,
	      ns);
}

/*
 * New inode of type `fmt` (LINUX_S_IFREG or LINUX_S_IFIFO) as `name` in `dir`;
 * links, marks and writes it. A regular file gets an empty extent header; a
 * FIFO has no blocks and, as mknod(2) and debugfs make it, no extent header
 * (e2fsck wants its i_block zeroed).
 */
static long new_node(ext2_filsys fs, uint32_t dir, const char *name,
		     uint32_t fmt, int ftype, uint32_t perm, int64_t s,
		     uint32_t ns, uint32_t *out)
{
	struct ext2_inode_large in;
	ext2_ino_t ino;
	errcode_t rc;

	NEED_BITMAPS(fs);
	rc = ext2fs_new_inode(fs, dir, fmt | 0644, NULL, &ino);
	if (rc)
		return rc;
	rc = shim_link(fs, dir, name, ino, ftype);
	if (rc)
		return rc;
	memset(&in, 0, sizeof(in));
	in.i_mode = fmt | (perm & 07777);
	in.i_links_count = 1;
	in.i_extra_isize = sizeof(in) - EXT2_GOOD_OLD_INODE_SIZE;
	if (fmt == LINUX_S_IFREG && ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t h;

		/* Opening an extent handle on an empty inode writes the header. */
		rc = ext2fs_extent_open2(fs, ino, (struct ext2_inode *)&in, &h);
		if (rc)
			goto unlink;
		ext2fs_extent_free(h);
		in.i_flags |= EXT4_EXTENTS_FL;
	}
	init_times(fs, &in, s, ns);
	ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
	rc = ext2fs_write_new_inode(fs, ino, (struct ext2_inode *)&in);
	if (rc) {
		ext2fs_inode_alloc_stats2(fs, ino, -1, 0);
		goto unlink;
	}
	*out = ino;
	return 0;
unlink:
	ext2fs_unlink(fs, dir, name, ino, 0);
	return rc;
}

/* New regular file `name` in `dir`. */
long shim_create(ext2_filsys fs, uint32_t dir, const char *name, uint32_t perm,
		 int64_t s, uint32_t ns, uint32_t *out)
{
	return new_node(fs, dir, name, LINUX_S_IFREG, EXT2_FT_REG_FILE, perm, s,
			ns, out);
}

/* New named pipe `name` in `dir`. */
long shim_mkfifo(ext2_filsys fs, uint32_t dir, const char *name, uint32_t perm,
		 int64_t s, uint32_t ns, uint32_t *out)
{
	return new_node(fs, dir, name, LINUX_S_IFIFO, EXT2_FT_FIFO, perm, s, ns,
			out);
}

static long finish_new(ext2_filsys fs, ext2_ino_t ino, int64_t perm, int64_t s,
		       uint32_t ns)
{
	struct ext2_inode_large in;
	errcode_t rc = read_large(fs, ino, &in);

	if (rc)
		return rc;
	if (perm >= 0)
		in.i_mode = (in.i_mode & LINUX_S_IFMT) | (perm & 07777);
	in.i_extra_isize = sizeof(in) - EXT2_GOOD_OLD_INODE_SIZE;
	init_times(fs, &in, s, ns);
	return write_large(fs, ino, &in);
}

/* New directory `name` in `dir` (parent link count bumped by libext2fs). */
long shim_mkdir(ext2_filsys fs, uint32_t dir, const char *name, uint32_t perm,
		int64_t s, uint32_t ns, uint32_t *out)
{
	ext2_ino_t ino;
	errcode_t rc;

	NEED_BITMAPS(fs);
	rc = ext2fs_new_inode(fs, dir, LINUX_S_IFDIR | 0755, NULL, &ino);
	if (rc)
		return rc;
	rc = ext2fs_mkdir(fs, dir, ino, name);
	if (rc == EXT2_ET_DIR_NO_SPACE) {
		/* Nothing was marked in use yet: grow the parent and retry. */
		rc = ext2fs_expand_dir(fs, dir);
		if (rc)
			return rc;
		rc = ext2fs_mkdir(fs, dir, ino, name);
	}
	if (rc)
		return rc;
	*out = ino;
	return finish_new(fs, ino, perm, s, ns);
}

/* New symbolic link `name` -> `target` (fast if it fits in the inode). */
long shim_symlink(ext2_filsys fs, uint32_t dir, const char *name,
		  const char *target, int64_t s, uint32_t ns, uint32_t *out)
{
	ext2_ino_t ino;
	errcode_t rc;

	NEED_BITMAPS(fs);
	rc = ext2fs_new_inode(fs, dir, LINUX_S_IFLNK | 0777, NULL, &ino);
	if (rc)
		return rc;
	rc = ext2fs_symlink(fs, dir, ino, name, target);
	if (rc == EXT2_ET_DIR_NO_SPACE) {
		rc = ext2fs_expand_dir(fs, dir);
		if (rc)
			return rc;
		rc = ext2fs_symlink(fs, dir, ino, name, target);
	}
	if (rc)
		return rc;
	*out = ino;
	return finish_new(fs, ino, -1, s, ns);
}
