/*
 * pubkey.c - (being written for issue 16)
 */
#include "pubkey.h"
