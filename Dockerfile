# The apictl container image: the static binary alone (CGO off, built by
# goreleaser; CA roots embedded as a fallback). goreleaser's dockers_v2
# puts each platform's binary under $TARGETPLATFORM/ in the build context.
FROM scratch
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/apictl /apictl
USER 65534:65534
ENTRYPOINT ["/apictl"]
