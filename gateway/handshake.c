/*
 * handshake.c - (being written for issue 16)
 */
#include "handshake.h"
