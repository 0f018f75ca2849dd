// Original file: ../proto/cache/v1/cache.proto


export interface HealthRequest {
}

export interface HealthRequest__Output {
}
