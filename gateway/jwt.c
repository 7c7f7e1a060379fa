/*
 * jwt.c - (being written for issue 16)
 */
#include "jwt.h"
