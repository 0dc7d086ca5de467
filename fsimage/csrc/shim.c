/*
 * shim.c: a thin layer over libext2fs for the fsimage crate.
 *
 * Rust declares every function here by hand (see src/ffi.rs), so the
 * signatures stay simple: plain integers, pointers and NUL-terminated names.
 * All I/O goes through wsh_io_manager, which calls back into Rust to a
 * BlockDevice; libext2fs never touches a host file itself.
 */
#include <pthread.h>
#include "shim.h"

/* The BlockDevice-backed I/O manager (io_manager.c). */
extern struct struct_io_manager wsh_io_manager_struct;

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

static pthread_once_t error_table_once = PTHREAD_ONCE_INIT;

static void register_error_table(void)
{
	initialize_ext2_error_table();
	set_com_err_hook(quiet_com_err);
}

/*
 * com_err's table list is a global linked list without a lock: two threads
 * registering it at once (file systems used from several threads, as the
 * tests do) corrupted the heap. pthread_once registers it exactly once.
 */
const char *shim_strerror(long code)
{
	pthread_once(&error_table_once, register_error_table);
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
	 * The bitmaps are read on first need (shim_load_bitmaps), not here:
	 * validating the descriptors and reading the bitmaps of a 16 GiB file
	 * system was a fifth of a `wsh -c :`, and most commands allocate
	 * nothing.
	 *
	 * A larger inode cache than libext2fs' default of 4: every command start
	 * stats the same few inodes (/, /bin -> usr/bin, the program), and each
	 * miss is a block read through the qcow2 layers. libext2fs keeps the
	 * cache coherent with its own inode writes.
	 */
	if (fs->icache) {
		ext2fs_free_inode_cache(fs->icache);
		fs->icache = NULL;
	}
	rc = ext2fs_create_inode_cache(fs, 1024);
	if (rc) {
		ext2fs_free(fs);
		return rc;
	}
	fs->umask = 0;
	*out = fs;
	return 0;
}

/*
 * Reads the block and inode bitmaps if they are not in memory yet. The group
 * descriptors are validated first (as e2fsck does): on damaged ones (bitmaps
 * at block 0, overlapping tables...) libext2fs' bitmap reader corrupts the
 * heap and aborts instead of returning an error.
 */
long shim_load_bitmaps(ext2_filsys fs)
{
	errcode_t rc;

	if (fs->block_map && fs->inode_map)
		return 0;
	rc = ext2fs_check_desc(fs);
	if (rc)
		return rc;
	return ext2fs_read_bitmaps(fs);
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
	errcode_t rc;
	int is_dir;

	NEED_BITMAPS(fs);
	rc = read_large(fs, ino, &in);
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
