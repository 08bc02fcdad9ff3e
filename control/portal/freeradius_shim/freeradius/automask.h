/* See ident.h: not installed by Debian 12's libfreeradius-dev; in FreeRADIUS it only undoes
 * autoconf's PACKAGE_* definitions, which nothing here uses. */
#pragma once
