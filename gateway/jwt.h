/*
 * jwt.h - (being written for issue 16; see the owner's report)
 */
#ifndef HG_JWT_H
#define HG_JWT_H

#endif
