"""HTTP/1.x: parsing on llhttp (httptools) and serialisation."""
