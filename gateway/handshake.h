/*
 * handshake.h - (being written for issue 16; see the owner's report)
 */
#ifndef HG_HANDSHAKE_H
#define HG_HANDSHAKE_H

#endif
