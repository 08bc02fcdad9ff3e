/* Debian 12's libfreeradius-dev (3.2.1) installs headers that include two files it does not
 * ship: this one and automask.h (FreeRADIUS pull request #5777). Both are trivial in FreeRADIUS
 * itself: ident.h defines the source-identification macros, which compile to nothing here. */
#pragma once
#define RCSID(id)
#define RCSIDH(h, id)
