module arca.test/compat/gotar

go 1.26.0
