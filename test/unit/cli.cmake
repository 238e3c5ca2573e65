arca_cc_test(NAME install_test SRCS install/manifests_test.cc DEPS arca::install)
