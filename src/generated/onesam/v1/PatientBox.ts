// Original file: proto/onesam/v1/segmentation.proto


/**
 * A box in DICOM patient coordinates (LPS, millimetres), as viewers such as OHIF measure it: two opposite corners,
 * each (x, y, z). The server maps both through the series geometry to voxel coordinates; corners on one slice give
 * a 2D box on that slice, corners on different slices a 3D box over the slices between them.
 */
export interface PatientBox {
  'cornerA'?: (number | string)[];
  'cornerB'?: (number | string)[];
}

/**
 * A box in DICOM patient coordinates (LPS, millimetres), as viewers such as OHIF measure it: two opposite corners,
 * each (x, y, z). The server maps both through the series geometry to voxel coordinates; corners on one slice give
 * a 2D box on that slice, corners on different slices a 3D box over the slices between them.
 */
export interface PatientBox__Output {
  'cornerA': (number)[];
  'cornerB': (number)[];
}
