/*
 * data.c: file data for the fsimage shim: read, write, truncate, readlink,
 * and the orphan list of inodes still open when their last link went.
 */
#include "shim.h"

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

/*
 * Maps the blocks that a write of [off, off+len) reaches past the end of the
 * file by growing the file's last extent over them, in one extent update;
 * *first gets the first block mapped (0: none, the write maps its own).
 * ext2fs_file_write allocates a block at a time, and once the extent tree has
 * left the inode (past 4 extents, about 450 MiB of a file) each allocation
 * rewrites and checksums a leaf block: 13 times slower per MiB. This applies
 * only where the blocks continue the last extent both logically and on disk
 * and are free; else the write goes the plain way. The blocks are not zeroed,
 * because the write fills each one, except a last one it fills in part (its
 * tail, past the end of the file, must read as zeros); the caller punches out
 * any it did not reach.
 */
static void premap(ext2_filsys fs, ext2_ino_t ino, uint64_t off, uint32_t len,
		   blk64_t *first)
{
	struct ext2_inode_large in;
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	blk64_t bs = fs->blocksize;
	blk64_t start = (off + bs - 1) / bs, end = (off + len + bs - 1) / bs;
	blk64_t count, goal;
	errcode_t rc;
	static const unsigned char zeros[EXT2_MAX_BLOCK_SIZE];

	*first = 0;
	count = end > start ? end - start : 0;
	if (count < 2 || ext2fs_has_feature_bigalloc(fs->super) ||
	    read_large(fs, ino, &in) || !(in.i_flags & EXT4_EXTENTS_FL) ||
	    start < (EXT2_I_SIZE(&in) + bs - 1) / bs)
		return;
	if (ext2fs_extent_open2(fs, ino, (struct ext2_inode *)&in, &h))
		return;
	memset(&ex, 0, sizeof(ex));
	rc = ext2fs_extent_get(h, EXT2_EXTENT_LAST_LEAF, &ex);
	goal = ex.e_pblk + ex.e_len;
	if (rc || (ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ||
	    ex.e_lblk + ex.e_len != start || ex.e_len + count > EXT_INIT_MAX_LEN ||
	    goal + count > ext2fs_blocks_count(fs->super) ||
	    !ext2fs_test_block_bitmap_range2(fs->block_map, goal, count)) {
		ext2fs_extent_free(h);
		return;
	}
	ext2fs_block_alloc_stats_range(fs, goal, count, +1);
	ex.e_len += count;
	/* The handle works on `in` itself: i_blocks goes with the extent. */
	rc = ext2fs_iblk_add_blocks(fs, (struct ext2_inode *)&in, count);
	if (!rc)
		rc = ext2fs_extent_replace(h, 0, &ex);
	ext2fs_extent_free(h);
	if (rc) {
		/* Nothing mapped: the plain write path follows. */
		ext2fs_block_alloc_stats_range(fs, goal, count, -1);
		return;
	}
	*first = start;
	/* A leaf block was written, not the inode and its i_blocks. */
	write_large(fs, ino, &in);
	if ((off + len) % bs)
		io_channel_write_blk64(fs->io, goal + count - 1, 1, zeros);
}

long shim_write(ext2_filsys fs, uint32_t ino, uint64_t off, const void *buf,
		uint32_t len, int64_t s, uint32_t ns, uint32_t *done)
{
	ext2_file_t f;
	errcode_t rc, rc2;
	unsigned int n = 0;
	blk64_t premapped;
	int skip_csum;

	*done = 0;
	NEED_BITMAPS(fs);
	premap(fs, ino, off, len, &premapped);
	/*
	 * ext2fs_file_write looks each block up in the extent tree, verifying the
	 * leaf's checksum every time: a 4 KiB checksum per 4 KiB written, 40% of
	 * a large write. premap has just read (and verified) that same path and
	 * written it back, so the write may skip the checks.
	 */
	skip_csum = premapped && !(fs->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS);
	if (skip_csum)
		fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
	rc = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &f);
	if (!rc) {
		rc = ext2fs_file_llseek(f, off, EXT2_SEEK_SET, NULL);
		if (!rc)
			rc = ext2fs_file_write(f, buf, len, &n);
		rc2 = ext2fs_file_close(f);
		if (!rc)
			rc = rc2;
	}
	if (skip_csum)
		fs->flags &= ~EXT2_FLAG_IGNORE_CSUM_ERRORS;
	/* Premapped blocks the write stopped short of would hold stale data. */
	if (premapped && n < len) {
		blk64_t reached = (off + n + fs->blocksize - 1) / fs->blocksize;

		rc2 = ext2fs_punch(fs, ino, NULL, NULL,
				   reached > premapped ? reached : premapped,
				   ~0ULL);
		if (!rc)
			rc = rc2;
	}
	*done = n;
	if (rc && !n)
		return rc; /* nothing written: times unchanged */
	rc2 = stamp_mc(fs, ino, s, ns);
	return rc ? rc : rc2;
}

long shim_truncate(ext2_filsys fs, uint32_t ino, uint64_t size, int64_t s,
		   uint32_t ns)
{
	struct ext2_inode_large in;
	ext2_file_t f;
	errcode_t rc, rc2;

	NEED_BITMAPS(fs);
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
	NEED_BITMAPS(fs);
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
