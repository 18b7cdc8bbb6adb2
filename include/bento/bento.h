/*
 * bento/bento.h - everything a Bento file system includes.
 *
 *	#define BENTO_LOG_SUBSYS "myfs"
 *	#include <bento/bento.h>
 */
#ifndef BENTO_BENTO_H
#define BENTO_BENTO_H

#include <bento/types.h>
#include <bento/buf.h>
#include <bento/fs.h>
#include <bento/log.h>
#include <bento/runtime.h>
#include <bento/state.h>
#include <bento/sync.h>

#endif /* BENTO_BENTO_H */
