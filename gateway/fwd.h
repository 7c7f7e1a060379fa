/*
 * fwd.h - (being written for issue 16; see the owner's report)
 */
#ifndef HG_FWD_H
#define HG_FWD_H

#endif
