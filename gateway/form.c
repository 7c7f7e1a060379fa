/*
 * form.c - (being written for issue 16)
 */
#include "form.h"
