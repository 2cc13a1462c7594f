import FulcrumHashing

typealias FulcrumHashingAlgorithm = HashAlgorithm
