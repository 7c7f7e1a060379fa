/*
 * form.h - (being written for issue 16; see the owner's report)
 */
#ifndef HG_FORM_H
#define HG_FORM_H

#endif
