/*
 * pubkey.h - (being written for issue 16; see the owner's report)
 */
#ifndef HG_PUBKEY_H
#define HG_PUBKEY_H

#endif
