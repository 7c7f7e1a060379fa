/*
 * fwd.c - (being written for issue 16)
 */
#include "fwd.h"
