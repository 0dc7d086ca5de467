/*
 * check.c: the read-only consistency checks behind fsimage::check (src/check.rs),
 * the ones libext2fs can make without repairing anything. Problems are reported
 * as text through a callback; the Rust side adds where (a path, a group).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext2_err.h>

typedef void (*shim_report_cb)(void *ctx, const char *msg);

static void report(shim_report_cb cb, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(shim_report_cb cb, void *ctx, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb(ctx, msg);
}

/*
 * Group descriptor checksums (ext2fs_open2 and ext2fs_check_desc leave them
 * to e2fsck). Calls cb(ctx, group, msg) per bad group.
 */
typedef void (*shim_group_cb)(void *ctx, uint32_t group, const char *msg);

void shim_check_groups(ext2_filsys fs, shim_group_cb cb, void *ctx)
{
	dgrp_t g;

	if (!ext2fs_has_group_desc_csum(fs))
		return;
	for (g = 0; g < fs->group_desc_count; g++)
		if (!ext2fs_group_desc_csum_verify(fs, g))
			cb(ctx, g, "group descriptor checksum does not match");
}

/* What one inode's block walk found. */
struct blocks_ctx {
	ext2_filsys fs;
	shim_report_cb cb;
	void *ctx;
	blk64_t count;	 /* blocks mapped (data and tree) */
	blk64_t bad;	 /* of which outside the file system */
	blk64_t unmarked; /* of which free in the block bitmap */
	blk64_t first_bad, first_unmarked;
};

static int block_fn(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt,
		    blk64_t ref_blk, int ref_offset, void *priv)
{
	struct blocks_ctx *b = priv;
	blk64_t blk = *blocknr;

	(void)blockcnt;
	(void)ref_blk;
	(void)ref_offset;
	b->count++;
	if (blk < fs->super->s_first_data_block ||
	    blk >= ext2fs_blocks_count(fs->super)) {
		if (!b->bad++)
			b->first_bad = blk;
		return 0;
	}
	if (!ext2fs_test_block_bitmap2(fs->block_map, blk) && !b->unmarked++)
		b->first_unmarked = blk;
	return 0;
}

/*
 * The block map of `in` (extent tree or indirect blocks, and the xattr
 * block): inside the file system, marked in use, matching i_blocks. Sets
 * *bad on problems; returns 1 if the map is unusable.
 */
static int check_blocks(ext2_filsys fs, ext2_ino_t ino,
			struct ext2_inode_large *in, shim_report_cb cb, void *ctx,
			int *bad)
{
	struct blocks_ctx b;
	blk64_t acl, want;
	errcode_t rc;

	memset(&b, 0, sizeof(b));
	b.fs = fs;
	b.cb = cb;
	b.ctx = ctx;
	if (ext2fs_inode_has_valid_blocks2(fs, (struct ext2_inode *)in)) {
		rc = ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_READ_ONLY, NULL,
					   block_fn, &b);
		if (rc) {
			report(cb, ctx, "inode %u: block map unreadable: %s",
			       ino, error_message(rc));
			return 1;
		}
	}
	acl = ext2fs_file_acl_block(fs, (struct ext2_inode *)in);
	if (acl) {
		blk64_t one = acl;

		block_fn(fs, &one, 0, 0, 0, &b);
		if (acl >= fs->super->s_first_data_block &&
		    acl < ext2fs_blocks_count(fs->super)) {
			char buf[EXT2_MAX_BLOCK_SIZE];

			rc = ext2fs_read_ext_attr3(fs, acl, buf, ino);
			if (rc) {
				report(cb, ctx,
				       "inode %u: extended attribute block %llu: %s",
				       ino, (unsigned long long)acl,
				       error_message(rc));
				*bad = 1;
			}
		}
	}
	if (b.bad) {
		report(cb, ctx,
		       "inode %u maps %llu block(s) outside the file system (first: %llu)",
		       ino, (unsigned long long)b.bad,
		       (unsigned long long)b.first_bad);
		return 1;
	}
	if (b.unmarked) {
		report(cb, ctx,
		       "inode %u uses %llu block(s) free in the block bitmap (first: %llu)",
		       ino, (unsigned long long)b.unmarked,
		       (unsigned long long)b.first_unmarked);
		*bad = 1;
	}
	/* i_blocks counts 512-byte units (whole clusters with bigalloc). */
	want = b.count * (fs->blocksize / 512);
	if (EXT2FS_CLUSTER_RATIO(fs) == 1 &&
	    !(in->i_flags & EXT4_INLINE_DATA_FL) &&
	    ext2fs_get_stat_i_blocks(fs, (struct ext2_inode *)in) != want) {
		report(cb, ctx, "inode %u: i_blocks is %llu, its blocks make %llu",
		       ino,
		       (unsigned long long)ext2fs_get_stat_i_blocks(
			       fs, (struct ext2_inode *)in),
		       (unsigned long long)want);
		*bad = 1;
	}
	return 0;
}

/*
 * Checks inode `ino` as a directory entry finds it: number in range, marked
 * in use, readable with a valid checksum, a known file type, linked, and its
 * block map (extent tree or indirect blocks, extended-attribute block) inside
 * the file system, marked in use and consistent with i_blocks. *mode and
 * *links get the inode's. Returns 1 if the inode is unusable (the caller
 * must not descend into it), else 0; every problem goes to cb.
 */
int shim_check_inode(ext2_filsys fs, uint32_t ino, shim_report_cb cb,
		     void *ctx, uint32_t *mode, uint32_t *links)
{
	struct ext2_inode_large in;
	errcode_t rc;
	int bad = 0;

	*mode = 0;
	*links = 0;
	if (ino < EXT2_ROOT_INO || ino > fs->super->s_inodes_count ||
	    (ino < EXT2_FIRST_INODE(fs->super) && ino != EXT2_ROOT_INO)) {
		report(cb, ctx, "inode number %u is out of range or reserved", ino);
		return 1;
	}
	if (!ext2fs_test_inode_bitmap2(fs->inode_map, ino)) {
		report(cb, ctx, "inode %u is free in the inode bitmap", ino);
		bad = 1;
	}
	memset(&in, 0, sizeof(in));
	rc = ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)&in,
				    sizeof(in));
	if (rc) {
		report(cb, ctx, "inode %u: %s", ino, error_message(rc));
		return 1;
	}
	*mode = in.i_mode;
	*links = in.i_links_count;
	if (in.i_links_count == 0) {
		report(cb, ctx, "inode %u has no links (deleted or cleared)", ino);
		bad = 1;
	}
	switch (in.i_mode & LINUX_S_IFMT) {
	case LINUX_S_IFREG:
	case LINUX_S_IFDIR:
	case LINUX_S_IFLNK:
	case LINUX_S_IFCHR:
	case LINUX_S_IFBLK:
	case LINUX_S_IFIFO:
	case LINUX_S_IFSOCK:
		break;
	default:
		report(cb, ctx, "inode %u has an unknown file type (mode %o)",
		       ino, in.i_mode);
		return 1;
	}
	if (in.i_dtime && in.i_links_count && !fs->super->s_last_orphan) {
		report(cb, ctx, "inode %u is in use but has a deletion time", ino);
		bad = 1;
	}

	if (check_blocks(fs, ino, &in, cb, ctx, &bad))
		return 1;
	return bad;
}

/*
 * The reserved inodes in use (bad blocks list, resize inode, journal, ...):
 * readable with a valid checksum and a sound block map. No directory names
 * them, so the walk would never look.
 */
void shim_check_reserved(ext2_filsys fs, shim_report_cb cb, void *ctx)
{
	struct ext2_inode_large in;
	ext2_ino_t ino;
	errcode_t rc;
	int bad = 0;

	for (ino = 1; ino < EXT2_FIRST_INODE(fs->super); ino++) {
		if (ino == EXT2_ROOT_INO)
			continue;
		memset(&in, 0, sizeof(in));
		rc = ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)&in,
					    sizeof(in));
		if (rc) {
			report(cb, ctx, "reserved inode %u: %s", ino,
			       error_message(rc));
			continue;
		}
		check_blocks(fs, ino, &in, cb, ctx, &bad);
	}
}
