# package.cmake - `cpack -G DEB` in the build directory: a Debian 12 package
# of what `cmake --install` installs, under /usr. Its Depends are Debian 12's
# names of the shared libraries the binary links (ldd build/tools/kubesurvey;
# the versions are bookworm's).
#
# No maintainer script: like nmap's Debian package (and wireshark's, whose
# debconf question defaults to no), the package does not give raw sockets to
# every user. Who may scan without root is the administrator's choice, made
# with the one line documented in README.md and docs/survey-guide.md:
#     sudo setcap cap_net_raw,cap_net_admin+ep /usr/bin/kubesurvey
# (libcap2-bin, hence Suggests).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kubesurvey)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "survey of exposed Kubernetes API servers")
set(CPACK_PACKAGE_DESCRIPTION "kubesurvey SYN-scans address ranges for Kubernetes ports, \
probes each responder (TLS with the certificate chain, GET /version), stores the results \
in an LMDB database and turns them into statistics, exports, HTML reports and published \
datasets.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "kubesurvey developers")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(KS_DEB_DEPENDS
    "libc6 (>= 2.36)" "libpcap0.8 (>= 1.10.3)" "libnet1 (>= 1.1.6)" "libssl3 (>= 3.0.0)"
    "liblmdb0 (>= 0.9.24)" "libzstd1 (>= 1.5.4)" "libjansson4 (>= 2.14)"
    "libhttp-parser2.9 (>= 2.9.4)")
if(KS_ALLOCATOR STREQUAL "mimalloc")
  list(APPEND KS_DEB_DEPENDS "libmimalloc2.0 (>= 2.0.9)")
endif()
list(JOIN KS_DEB_DEPENDS ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libcap2-bin, man-db, bash-completion")
include(CPack)
