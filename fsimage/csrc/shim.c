/*
 * shim.c: a thin layer over libext2fs for the fsimage crate.
 *
 * Rust declares every function here by hand (see src/ffi.rs), so the
 * signatures stay simple: plain integers, pointers and NUL-terminated names.
 * All I/O goes through wsh_io_manager, which calls back into Rust to a
 * BlockDevice; libext2fs never touches a host file itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext2_err.h>

/* The BlockDevice-backed I/O manager (io_manager.c). */
extern struct struct_io_manager wsh_io_manager_struct;

/* The workaround for libext2fs' punch at the disk's last block (punch.c). */
extern errcode_t shim_unmap_last_fs_block(ext2_filsys fs, ext2_ino_t ino,
					  struct ext2_inode_large *in,
					  blk64_t start);

/* ------------------------------------------------------------------------ */
/* Error handling.                                                          */

/*
 * libext2fs reports some damage (e.g. "Illegal block number passed to
 * ext2fs_mark_block_bitmap") by printing through com_err as well as by
 * returning an error; wsh reports the returned error, so printing is muted.
 */
static void quiet_com_err(const char *whoami, errcode_t code, const char *fmt,
			  va_list args)
{
	(void)whoami;
	(void)code;
	(void)fmt;
	(void)args;
}

const char *shim_strerror(long code)
{
	static int inited;

	if (!inited) {
		initialize_ext2_error_table();
		set_com_err_hook(quiet_com_err);
		inited = 1;
	}
	return error_message(code);
}

/* Maps a libext2fs error code to a POSIX errno (the Rust side names them). */
int shim_errno(long code)
{
	if (code > 0 && code < 4096)
		return (int)code; /* already an errno */
	switch (code) {
	case EXT2_ET_FILE_NOT_FOUND:
		return ENOENT;
	case EXT2_ET_DIR_EXISTS:
	case EXT2_ET_FILE_EXISTS:
		return EEXIST;
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_EXTENT_NO_SPACE:
	case EXT2_ET_EA_NO_SPACE:
	case EXT2_ET_DIR_NO_SPACE_FOR_CSUM:
		return ENOSPC;
	case EXT2_ET_NO_DIRECTORY:
		return ENOTDIR;
	case EXT2_ET_RO_FILSYS:
		return EROFS;
	case EXT2_ET_FILE_TOO_BIG:
	case EXT2_ET_EXTENT_NOT_SUPPORTED:
		return EFBIG;
	case EXT2_ET_INVALID_ARGUMENT:
	case EXT2_ET_BAD_INODE_NUM:
		return EINVAL;
	case EXT2_ET_UNIMPLEMENTED:
	case EXT2_ET_OP_NOT_SUPPORTED:
		return ENOTSUP;
	case EXT2_ET_TOO_MANY_REFS:
		return EMLINK;
	default:
		return EIO;
	}
}

/* ------------------------------------------------------------------------ */
/* Opening, creating, syncing.                                              */

static void dev_name(char *buf, size_t n, void *dev)
{
	snprintf(buf, n, "wshdev:%p", dev);
}

long shim_open(void *dev, int writable, ext2_filsys *out)
{
	char name[64];
	ext2_filsys fs = NULL;
	int flags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP;
	errcode_t rc;

	shim_strerror(0);
	dev_name(name, sizeof(name), dev);
	if (writable)
		flags |= EXT2_FLAG_RW;
	rc = ext2fs_open2(name, NULL, flags, 0, 0, &wsh_io_manager_struct, &fs);
	if (rc)
		return rc;
	if (writable && ext2fs_has_feature_journal_needs_recovery(fs->super)) {
		ext2fs_free(fs);
		return EXT2_ET_UNSUPP_FEATURE;
	}
	/*
	 * Validate the group descriptors first (as e2fsck does): on damaged
	 * ones (bitmaps at block 0, overlapping tables...) libext2fs' bitmap
	 * reader corrupts the heap and aborts instead of returning an error.
	 */
	rc = ext2fs_check_desc(fs);
	if (!rc)
		rc = ext2fs_read_bitmaps(fs);
	if (rc) {
		ext2fs_free(fs);
		return rc;
	}
	fs->umask = 0;
	*out = fs;
	return 0;
}

/* Size in bytes that the file system claims (to compare with the device). */
uint64_t shim_fs_bytes(ext2_filsys fs)
{
	return ext2fs_blocks_count(fs->super) * (uint64_t)fs->blocksize;
}

void shim_space(ext2_filsys fs, uint64_t *total, uint64_t *avail)
{
	uint64_t free = ext2fs_free_blocks_count(fs->super);
	uint64_t resv = ext2fs_r_blocks_count(fs->super);

	*total = ext2fs_blocks_count(fs->super) * (uint64_t)fs->blocksize;
	*avail = (free > resv ? free - resv : 0) * (uint64_t)fs->blocksize;
}

long shim_flush(ext2_filsys fs)
{
	if (!(fs->flags & EXT2_FLAG_RW))
		return 0;
	return ext2fs_flush(fs);
}

long shim_close(ext2_filsys fs)
{
	if (fs->flags & EXT2_FLAG_RW)
		return ext2fs_close_free(&fs);
	/* Read-only: never write the superblock back. */
	ext2fs_free(fs);
	return 0;
}

/*
 * Makes an ext4 file system: 4 KiB blocks, 256-byte inodes, metadata_csum,
 * no journal. Leaves the file system open in *out.
 */
long shim_mkfs(void *dev, uint64_t blocks, uint32_t inodes, const char *label,
	       const uint8_t uuid[16], const uint8_t hash_seed[16],
	       uint32_t now, ext2_filsys *out)
{
	struct ext2_super_block param;
	struct ext2_inode_large inode;
	char name[64];
	ext2_filsys fs = NULL;
	ext2_ino_t ino;
	dgrp_t g;
	errcode_t rc;

	shim_strerror(0);
	dev_name(name, sizeof(name), dev);
	memset(&param, 0, sizeof(param));
	ext2fs_blocks_count_set(&param, blocks);
	param.s_log_block_size = 2; /* 1024 << 2 = 4096 */
	param.s_rev_level = EXT2_DYNAMIC_REV;
	param.s_inode_size = 256;
	param.s_inodes_count = inodes;
	param.s_log_groups_per_flex = 4;
	param.s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
	param.s_min_extra_isize = param.s_want_extra_isize =
		sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	ext2fs_set_feature_filetype(&param);
	ext2fs_set_feature_extents(&param);
	ext2fs_set_feature_64bit(&param);
	ext2fs_set_feature_dir_index(&param);
	ext2fs_set_feature_sparse_super(&param);
	ext2fs_set_feature_large_file(&param);
	ext2fs_set_feature_huge_file(&param);
	ext2fs_set_feature_flex_bg(&param);
	ext2fs_set_feature_extra_isize(&param);
	ext2fs_set_feature_dir_nlink(&param);
	ext2fs_set_feature_xattr(&param);
	ext2fs_set_feature_metadata_csum(&param);
	/* 5% for root, as mke2fs does. */
	ext2fs_r_blocks_count_set(&param, blocks / 20);

	rc = ext2fs_initialize(name, EXT2_FLAG_64BITS, &param,
			       &wsh_io_manager_struct, &fs);
	if (rc)
		return rc;
	fs->umask = 022;
	memcpy(fs->super->s_uuid, uuid, 16);
	memcpy(fs->super->s_hash_seed, hash_seed, 16);
	fs->super->s_def_hash_version = EXT2_HASH_HALF_MD4;
	fs->super->s_flags |= EXT2_FLAGS_UNSIGNED_HASH;
	fs->super->s_checksum_type = EXT2_CRC32C_CHKSUM;
	fs->super->s_max_mnt_count = -1;
	fs->super->s_mkfs_time = fs->super->s_lastcheck = now;
	fs->super->s_kbytes_written = 1;
	strncpy((char *)fs->super->s_volume_name, label,
		sizeof(fs->super->s_volume_name));
	ext2fs_init_csum_seed(fs);

	rc = ext2fs_allocate_tables(fs);
	if (rc)
		goto fail;

	/*
	 * Zero only the part of each inode table that may be in use (lazy
	 * init, like mke2fs -E lazy_itable_init=1): with uninit_bg-style
	 * checksums, e2fsck and the kernel ignore the unused tail.
	 */
	for (g = 0; g < fs->group_desc_count; g++) {
		uint32_t used = fs->super->s_inodes_per_group -
				ext2fs_bg_itable_unused(fs, g);
		blk64_t num = ((uint64_t)used * EXT2_INODE_SIZE(fs->super) +
			       fs->blocksize - 1) / fs->blocksize;

		if (num) {
			rc = ext2fs_zero_blocks2(fs, ext2fs_inode_table_loc(fs, g),
						 num, NULL, NULL);
			if (rc)
				goto fail;
		}
		ext2fs_group_desc_csum_set(fs, g);
	}
	/* Group 0's table holds the reserved inodes: zero its start for sure. */
	rc = ext2fs_zero_blocks2(fs, ext2fs_inode_table_loc(fs, 0),
				 (EXT2_FIRST_INODE(fs->super) *
				  EXT2_INODE_SIZE(fs->super) + fs->blocksize - 1) /
					 fs->blocksize,
				 NULL, NULL);
	if (rc)
		goto fail;

	rc = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, 0);
	if (rc)
		goto fail;
	rc = ext2fs_mkdir(fs, EXT2_ROOT_INO, 0, "lost+found");
	if (rc)
		goto fail;
	rc = ext2fs_lookup(fs, EXT2_ROOT_INO, "lost+found", 10, 0, &ino);
	if (rc)
		goto fail;
	/* e2fsck wants room in lost+found without allocating: 16 KiB. */
	for (;;) {
		struct ext2_inode lf;

		rc = ext2fs_read_inode(fs, ino, &lf);
		if (rc)
			goto fail;
		if (EXT2_I_SIZE(&lf) >= 16384)
			break;
		rc = ext2fs_expand_dir(fs, ino);
		if (rc)
			goto fail;
	}

	/* Reserved inodes (1, 3..10) are in use, with valid checksums. */
	for (ino = 1; ino < EXT2_FIRST_INODE(fs->super); ino++) {
		if (ino == EXT2_ROOT_INO)
			continue;
		memset(&inode, 0, sizeof(inode));
		inode.i_extra_isize = sizeof(struct ext2_inode_large) -
				      EXT2_GOOD_OLD_INODE_SIZE;
		rc = ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)&inode,
					     sizeof(inode));
		if (rc)
			goto fail;
		ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
	}
	rc = ext2fs_update_bb_inode(fs, NULL);
	if (rc)
		goto fail;
	fs->super->s_state |= EXT2_VALID_FS;
	ext2fs_mark_super_dirty(fs);
	ext2fs_mark_ib_dirty(fs);
	ext2fs_mark_bb_dirty(fs);
	rc = ext2fs_flush(fs);
	if (rc)
		goto fail;
	fs->umask = 0;
	*out = fs;
	return 0;
fail:
	ext2fs_free(fs);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Inodes.                                                                  */

struct shim_stat {
	uint32_t mode; /* full i_mode, type bits included */
	uint32_t uid, gid, nlink;
	uint64_t size, blocks;
	int64_t atime, mtime, ctime;
	uint32_t atime_ns, mtime_ns, ctime_ns;
	uint32_t flags;
};

static int64_t get_time(uint32_t lo, uint32_t extra, int has_extra,
			uint32_t *nsec)
{
	int64_t sec = (int32_t)lo;

	*nsec = 0;
	if (has_extra) {
		sec += (int64_t)(extra & EXT4_EPOCH_MASK) << 32;
		*nsec = extra >> EXT4_EPOCH_BITS;
	}
	return sec;
}

static void set_time(uint32_t *lo, uint32_t *extra, int has_extra, int64_t sec,
		     uint32_t nsec)
{
	*lo = (uint32_t)sec;
	if (has_extra)
		*extra = ((uint32_t)((sec - (int32_t)*lo) >> 32) & EXT4_EPOCH_MASK) |
			 (nsec << EXT4_EPOCH_BITS);
}

#define HAS_EXTRA(fs, inode, field)                                           \
	(EXT2_INODE_SIZE((fs)->super) > EXT2_GOOD_OLD_INODE_SIZE &&           \
	 inode_includes(EXT2_GOOD_OLD_INODE_SIZE + (inode).i_extra_isize,    \
			field))

static errcode_t read_large(ext2_filsys fs, ext2_ino_t ino,
			    struct ext2_inode_large *inode)
{
	memset(inode, 0, sizeof(*inode));
	return ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)inode,
				      sizeof(*inode));
}

static errcode_t write_large(ext2_filsys fs, ext2_ino_t ino,
			     struct ext2_inode_large *inode)
{
	return ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)inode,
				       sizeof(*inode));
}

long shim_stat(ext2_filsys fs, uint32_t ino, struct shim_stat *st)
{
	struct ext2_inode_large in;
	errcode_t rc;

	if (ino == 0 || ino > fs->super->s_inodes_count)
		return EXT2_ET_BAD_INODE_NUM;
	rc = read_large(fs, ino, &in);
	if (rc)
		return rc;
	st->mode = in.i_mode;
	st->uid = inode_uid(in);
	st->gid = inode_gid(in);
	st->nlink = in.i_links_count;
	st->size = EXT2_I_SIZE(&in);
	st->blocks = ext2fs_get_stat_i_blocks(fs, (struct ext2_inode *)&in);
	st->atime = get_time(in.i_atime, in.i_atime_extra,
			     HAS_EXTRA(fs, in, i_atime_extra), &st->atime_ns);
	st->mtime = get_time(in.i_mtime, in.i_mtime_extra,
			     HAS_EXTRA(fs, in, i_mtime_extra), &st->mtime_ns);
	st->ctime = get_time(in.i_ctime, in.i_ctime_extra,
			     HAS_EXTRA(fs, in, i_ctime_extra), &st->ctime_ns);
	st->flags = in.i_flags;
	return 0;
}

#define T_ATIME 1
#define T_MTIME 2
#define T_CTIME 4
#define T_CRTIME 8

static void stamp(ext2_filsys fs, struct ext2_inode_large *in, int which,
		  int64_t a, uint32_t an, int64_t m, uint32_t mn, int64_t c,
		  uint32_t cn)
{
	if (which & T_ATIME)
		set_time(&in->i_atime, &in->i_atime_extra,
			 HAS_EXTRA(fs, *in, i_atime_extra), a, an);
	if (which & T_MTIME)
		set_time(&in->i_mtime, &in->i_mtime_extra,
			 HAS_EXTRA(fs, *in, i_mtime_extra), m, mn);
	if (which & T_CTIME)
		set_time(&in->i_ctime, &in->i_ctime_extra,
			 HAS_EXTRA(fs, *in, i_ctime_extra), c, cn);
	if (which & T_CRTIME)
		set_time(&in->i_crtime, &in->i_crtime_extra,
			 HAS_EXTRA(fs, *in, i_crtime_extra), c, cn);
}

long shim_set_times(ext2_filsys fs, uint32_t ino, int which, int64_t a,
		    uint32_t an, int64_t m, uint32_t mn, int64_t c, uint32_t cn)
{
	struct ext2_inode_large in;
	errcode_t rc = read_large(fs, ino, &in);

	if (rc)
		return rc;
	stamp(fs, &in, which, a, an, m, mn, c, cn);
	return write_large(fs, ino, &in);
}

/* Sets permission bits (type kept), owner (-1 keeps) and ctime. */
long shim_set_attr(ext2_filsys fs, uint32_t ino, int64_t perm, int64_t uid,
		   int64_t gid, int64_t c, uint32_t cn)
{
	struct ext2_inode_large in;
	errcode_t rc = read_large(fs, ino, &in);

	if (rc)
		return rc;
	if (perm >= 0)
		in.i_mode = (in.i_mode & LINUX_S_IFMT) | (perm & 07777);
	if (uid >= 0) {
		in.i_uid = uid & 0xffff;
		ext2fs_set_i_uid_high(in, (uid >> 16) & 0xffff);
	}
	if (gid >= 0) {
		in.i_gid = gid & 0xffff;
		ext2fs_set_i_gid_high(in, (gid >> 16) & 0xffff);
	}
	stamp(fs, &in, T_CTIME, 0, 0, 0, 0, c, cn);
	return write_large(fs, ino, &in);
}

/* Adds `delta` to the link count; *out gets the new count. Stamps ctime. */
long shim_add_links(ext2_filsys fs, uint32_t ino, int delta, int64_t c,
		    uint32_t cn, uint32_t *out)
{
	struct ext2_inode_large in;
	errcode_t rc = read_large(fs, ino, &in);
	int n;

	if (rc)
		return rc;
	n = (int)in.i_links_count + delta;
	if (n < 0)
		n = 0;
	if (n > 65000)
		return EXT2_ET_TOO_MANY_REFS;
	in.i_links_count = n;
	stamp(fs, &in, T_CTIME, 0, 0, 0, 0, c, cn);
	*out = n;
	return write_large(fs, ino, &in);
}

/* Releases an inode whose last link is gone: its blocks, xattrs and itself. */
long shim_free_inode(ext2_filsys fs, uint32_t ino, uint32_t now)
{
	struct ext2_inode_large in;
	errcode_t rc = read_large(fs, ino, &in);
	int is_dir;

	if (rc)
		return rc;
	is_dir = LINUX_S_ISDIR(in.i_mode);
	rc = ext2fs_free_ext_attr(fs, ino, &in);
	if (rc)
		return rc;
	if (ext2fs_inode_has_valid_blocks2(fs, (struct ext2_inode *)&in)) {
		rc = shim_unmap_last_fs_block(fs, ino, &in, 0);
		if (rc)
			return rc;
		rc = ext2fs_punch(fs, ino, (struct ext2_inode *)&in, NULL, 0,
				  ~0ULL);
		if (rc)
			return rc;
	}
	in.i_links_count = 0;
	in.i_dtime = now;
	rc = write_large(fs, ino, &in);
	if (rc)
		return rc;
	ext2fs_inode_alloc_stats2(fs, ino, -1, is_dir);
	return 0;
}

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
	errcode_t rc = ext2fs_dir_iterate2(fs, dir, 0, NULL, repl_fn, &r);

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
	errcode_t rc = ext2fs_link(fs, dir, name, ino, ftype);

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
	return ext2fs_unlink(fs, dir, name, ino, 0);
}

static void init_times(ext2_filsys fs, struct ext2_inode_large *in, int64_t s,
		       uint32_t ns)
{
	stamp(fs, in, T_ATIME | T_MTIME | T_CTIME | T_CRTIME, s, ns, s, ns, s,
	      ns);
}

/* New regular file `name` in `dir`; links, marks and writes it. */
long shim_create(ext2_filsys fs, uint32_t dir, const char *name, uint32_t perm,
		 int64_t s, uint32_t ns, uint32_t *out)
{
	struct ext2_inode_large in;
	ext2_ino_t ino;
	errcode_t rc;

	rc = ext2fs_new_inode(fs, dir, LINUX_S_IFREG | 0644, NULL, &ino);
	if (rc)
		return rc;
	rc = shim_link(fs, dir, name, ino, EXT2_FT_REG_FILE);
	if (rc)
		return rc;
	memset(&in, 0, sizeof(in));
	in.i_mode = LINUX_S_IFREG | (perm & 07777);
	in.i_links_count = 1;
	in.i_extra_isize = sizeof(in) - EXT2_GOOD_OLD_INODE_SIZE;
	if (ext2fs_has_feature_extents(fs->super)) {
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

/* ------------------------------------------------------------------------ */
/* File data.                                                               */

long shim_read(ext2_filsys fs, uint32_t ino, uint64_t off, void *buf,
	       uint32_t len, uint32_t *got)
{
	ext2_file_t f;
	errcode_t rc, rc2;
	unsigned int n = 0;

	*got = 0;
	rc = ext2fs_file_open(fs, ino, 0, &f);
	if (rc)
		return rc;
	rc = ext2fs_file_llseek(f, off, EXT2_SEEK_SET, NULL);
	if (!rc)
		rc = ext2fs_file_read(f, buf, len, &n);
	rc2 = ext2fs_file_close(f);
	*got = n;
	return rc ? rc : rc2;
}

static errcode_t stamp_mc(ext2_filsys fs, ext2_ino_t ino, int64_t s,
			  uint32_t ns)
{
	return shim_set_times(fs, ino, T_MTIME | T_CTIME, 0, 0, s, ns, s, ns);
}

long shim_write(ext2_filsys fs, uint32_t ino, uint64_t off, const void *buf,
		uint32_t len, int64_t s, uint32_t ns, uint32_t *done)
{
	ext2_file_t f;
	errcode_t rc, rc2;
	unsigned int n = 0;

	*done = 0;
	rc = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &f);
	if (rc)
		return rc;
	rc = ext2fs_file_llseek(f, off, EXT2_SEEK_SET, NULL);
	if (!rc)
		rc = ext2fs_file_write(f, buf, len, &n);
	rc2 = ext2fs_file_close(f);
	if (!rc)
		rc = rc2;
	*done = n;
	rc2 = stamp_mc(fs, ino, s, ns);
	return rc ? rc : rc2;
}

long shim_truncate(ext2_filsys fs, uint32_t ino, uint64_t size, int64_t s,
		   uint32_t ns)
{
	struct ext2_inode_large in;
	ext2_file_t f;
	errcode_t rc, rc2;

	rc = read_large(fs, ino, &in);
	if (rc)
		return rc;
	if (size < EXT2_I_SIZE(&in)) {
		/* What ext2fs_file_set_size2 will punch: blocks from here on. */
		rc = shim_unmap_last_fs_block(fs, ino, &in,
					 (size + fs->blocksize - 1) / fs->blocksize);
		if (rc)
			return rc;
	}
	rc = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &f);
	if (rc)
		return rc;
	rc = ext2fs_file_set_size2(f, size);
	rc2 = ext2fs_file_close(f);
	if (!rc)
		rc = rc2;
	rc2 = stamp_mc(fs, ino, s, ns);
	return rc ? rc : rc2;
}

/* Copies the link target into buf (up to cap bytes); *len gets its length. */
long shim_readlink(ext2_filsys fs, uint32_t ino, char *buf, uint32_t cap,
		   uint32_t *len)
{
	struct ext2_inode_large in;
	errcode_t rc = read_large(fs, ino, &in);
	uint64_t size;

	if (rc)
		return rc;
	if (!LINUX_S_ISLNK(in.i_mode))
		return EXT2_ET_INVALID_ARGUMENT;
	size = EXT2_I_SIZE(&in);
	if (size > cap)
		size = cap;
	if (ext2fs_is_fast_symlink((struct ext2_inode *)&in)) {
		memcpy(buf, in.i_block, size);
		*len = size;
		return 0;
	}
	return shim_read(fs, ino, 0, buf, size, len);
}

/*
 * Records the unlinked-but-open inodes as the ext4 orphan list (chained
 * through i_dtime from s_last_orphan), so a synced image with open deleted
 * files is consistent: fsck and the kernel free them, as after a crash.
 */
long shim_set_orphans(ext2_filsys fs, const uint32_t *inos, uint32_t n)
{
	struct ext2_inode_large in;
	uint32_t next = 0, i;
	errcode_t rc;

	for (i = 0; i < n; i++) {
		rc = read_large(fs, inos[i], &in);
		if (rc)
			return rc;
		in.i_dtime = next;
		rc = write_large(fs, inos[i], &in);
		if (rc)
			return rc;
		next = inos[i];
	}
	if (fs->super->s_last_orphan != next) {
		fs->super->s_last_orphan = next;
		ext2fs_mark_super_dirty(fs);
	}
	return 0;
}

/* Frees the inodes on an orphan list left by a crash (ours or the kernel's). */
long shim_release_orphans(ext2_filsys fs, uint32_t now)
{
	struct ext2_inode_large in;
	uint32_t ino = fs->super->s_last_orphan, next, steps = 0;
	errcode_t rc;

	if (!ino || !(fs->flags & EXT2_FLAG_RW))
		return 0;
	while (ino && steps++ < fs->super->s_inodes_count) {
		if (ino < EXT2_FIRST_INODE(fs->super) ||
		    ino > fs->super->s_inodes_count)
			break;
		rc = read_large(fs, ino, &in);
		if (rc)
			return rc;
		next = in.i_dtime;
		if (in.i_links_count == 0 &&
		    ext2fs_test_inode_bitmap2(fs->inode_map, ino)) {
			rc = shim_free_inode(fs, ino, now);
			if (rc)
				return rc;
		}
		ino = next;
	}
	fs->super->s_last_orphan = 0;
	ext2fs_mark_super_dirty(fs);
	return 0;
}
