/*
 * blkdev_mem.c - a block device in memory, for tests.
 *
 * The device is one anonymous private mapping of nblocks * 4 KiB,
 * zero-filled by the kernel and populated lazily, so a large sparse test
 * device costs only the blocks written.  Reads and writes are memcpy and
 * cannot fail; flush does nothing (memory is as durable as it gets).
 * Tests reach the bytes with bento_blkdev_mem_data to inspect or corrupt
 * an image.  Concurrent writes to one block race exactly as they would
 * on a disk: the last memcpy wins, possibly torn.
 */
#include <sys/mman.h>

#include "bento_host.h"

struct mem_dev {
	struct bento_blkdev dev;
	uint8_t *mem;
	size_t size;
};

static struct mem_dev *mem_dev(struct bento_blkdev *dev)
{
	return dev->priv;
}

static int mem_read(struct bento_blkdev *dev, uint64_t blockno, uint32_t n,
		    void *buf)
{
	struct mem_dev *md = mem_dev(dev);

	memcpy(buf, md->mem + (blockno << BENTO_BLOCK_SHIFT),
	       (size_t)n << BENTO_BLOCK_SHIFT);
	return 0;
}

static int mem_write(struct bento_blkdev *dev, uint64_t blockno, uint32_t n,
		     const void *buf)
{
	struct mem_dev *md = mem_dev(dev);

	memcpy(md->mem + (blockno << BENTO_BLOCK_SHIFT), buf,
	       (size_t)n << BENTO_BLOCK_SHIFT);
	return 0;
}

static int mem_flush(struct bento_blkdev *dev)
{
	return 0;
}

static void mem_close(struct bento_blkdev *dev)
{
	struct mem_dev *md = mem_dev(dev);

	munmap(md->mem, md->size);
	bento_free(md);
}

static const struct bento_blkdev_ops mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.close = mem_close,
};

int bento_blkdev_open_mem(uint64_t nblocks, struct bento_blkdev **out)
{
	struct mem_dev *md;

	if (nblocks == 0 || nblocks > (SIZE_MAX >> BENTO_BLOCK_SHIFT))
		return -EINVAL;
	md = bento_zalloc(sizeof(*md));
	if (!md)
		return -ENOMEM;
	md->size = (size_t)nblocks << BENTO_BLOCK_SHIFT;
	md->mem = mmap(NULL, md->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (md->mem == MAP_FAILED) {
		bento_free(md);
		return -ENOMEM;
	}
	md->dev.ops = &mem_ops;
	md->dev.nblocks = nblocks;
	md->dev.priv = md;
	*out = &md->dev;
	return 0;
}

void *bento_blkdev_mem_data(struct bento_blkdev *dev)
{
	if (!dev || dev->ops != &mem_ops)
		return NULL;
	return mem_dev(dev)->mem;
}

void bento_blkdev_close(struct bento_blkdev *dev)
{
	if (dev)
		dev->ops->close(dev);
}
